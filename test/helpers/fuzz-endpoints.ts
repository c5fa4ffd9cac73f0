// The write endpoints a running app documents in /apidoc/json: whatever is added to the route
// table is fuzzed without a change to the tests.
import type { KrakenApp } from '../../src/app.ts'
import type { JsonSchema } from './fuzz-schema.ts'

export interface Endpoint {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** OpenAPI form: /apis/v2/streams/stream-{streamId}/start */
  path: string
  params: string[]
  body: JsonSchema | undefined
  operationId: string
}

interface OpenApiOperation {
  operationId?: string
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
  parameters?: Array<{ in: string, name: string, schema?: JsonSchema }>
}

const WRITE_METHODS = ['post', 'put', 'patch', 'delete'] as const

/** Every documented write endpoint. */
export async function writeEndpoints (app: KrakenApp): Promise<Endpoint[]> {
  const res = await app.inject({ method: 'GET', url: '/apidoc/json' })
  if (res.statusCode !== 200) throw new Error(`/apidoc/json answered ${res.statusCode}`)
  const doc = res.json() as { paths: Record<string, Record<string, OpenApiOperation>> }
  const out: Endpoint[] = []
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of WRITE_METHODS) {
      const op = operations[method]
      if (op === undefined) continue
      out.push({
        method: method.toUpperCase() as Endpoint['method'],
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map(m => m[1] as string),
        body: op.requestBody?.content?.['application/json']?.schema,
        operationId: op.operationId ?? `${method} ${path}`
      })
    }
  }
  return out
}

/** The collection a hand-written parameter picks from: `/system/services/{name}` -> `/system/services`. */
export function collectionOf (endpoint: Endpoint, param: string): string {
  const index = endpoint.path.indexOf(`{${param}}`)
  return endpoint.path.slice(0, endpoint.path.lastIndexOf('/', index))
}
