import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

type Factory = ReturnType<typeof SerializerSelector>
type Compiler = ReturnType<Factory>
type Serializer = ReturnType<Compiler>

const selector = SerializerSelector()
const compiled = new WeakMap<object, Serializer>()

/**
 * Response serializers shared by every app of the process. Compiling them (fast-json-stringify)
 * is most of Fastify's ready time, and the resource schemas are module constants, so the second
 * emulator a test suite starts need not compile them again. Safe to share: a serializer depends
 * only on its schema and the external schemas, which every app registers alike (ErrorEnvelope);
 * schemas built per app simply miss the cache.
 */
export function cachedSerializerFactory (externalSchemas?: unknown, options?: Parameters<Factory>[1]): Compiler {
  const compile = selector(externalSchemas, options)
  return (route) => {
    const schema = route.schema
    if (typeof schema !== 'object' || schema === null) return compile(route)
    // Compiled on the first response that uses it, not at ready: a start (and a test suite's
    // many starts) pays only for the routes it calls (issue 23: ~30 % of the CLI's start-up CPU).
    let serializer: Serializer | undefined
    return (data) => {
      serializer ??= compiled.get(schema)
      if (serializer === undefined) {
        serializer = compile(route)
        compiled.set(schema, serializer)
      }
      return serializer(data)
    }
  }
}
