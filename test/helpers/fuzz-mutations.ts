// Hostile variations of a request: bodies derived from a valid one (wrong types, out-of-range
// numbers, huge strings, unknown and missing fields, nulls, deep nesting, prototype-pollution
// keys, invalid UTF-8, broken JSON) and paths (unknown, malformed and overlong ids, traversal).
import fc from 'fast-check'

/** A string value replaced by raw JSON text after serialization (numbers JSON.stringify cannot
 *  write, like 1e400, and keys it refuses to emit, like __proto__). */
const RAW = (text: string): string => `@@RAW@@${text}@@`
const RAW_RE = /"@@RAW@@(.*?)@@"/g
const PROTO_KEY = '@@PROTO@@'

const BODY_LIMIT = 1024 * 1024

/** Values of the wrong type or out of range, for any field. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, -0.000001, '', ' ', 'null', '0', [], {}, [null], { '': '' },
    2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE,
    RAW('1e400'), RAW('-1e400'), RAW('1e-400'), RAW('-0'), RAW('123456789012345678901234567890'),
    '\u0000', '\u202e', '💥'.repeat(64), '../../../../etc/passwd', '<script>alert(1)</script>', "' OR '1'='1",
    'constructor', '__proto__', 'toString', 'hasOwnProperty'),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.integer({ min: 1_000, max: BODY_LIMIT + 1024 }).map(n => 'x'.repeat(n)),
  fc.integer({ min: 50, max: 120_000 }).map(n => RAW('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 50, max: 50_000 }).map(n => RAW('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc.constant(RAW('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}')),
  fc.jsonValue({ maxDepth: 3 })
)

export type Mutation =
  | { kind: 'set', pick: number, value: unknown }
  | { kind: 'delete', pick: number }
  | { kind: 'unknown', name: string, value: unknown }
  | { kind: 'proto', value: unknown }
  | { kind: 'nested', pick: number, inner: Mutation }

const mutation: fc.Arbitrary<Mutation> = fc.letrec<{ m: Mutation }>(tie => ({
  m: fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: junk }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('unknown' as const), name: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('constructor', 'prototype', 'toString', 'uuid ', 'Name', '_parent', 'password_hash', 'status')), value: junk }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('proto' as const), value: fc.constantFrom<unknown>({ polluted: 'yes' }, { isAdmin: true }, 'yes', null, []) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('nested' as const), pick: fc.nat(), inner: tie('m') }) }
  )
})).m

/** Applies mutations to a copy of a JSON value. `names` are the schema's fields, so a
 *  "delete" or "set" can hit a field the valid value happened to leave out. */
export function mutate (value: unknown, mutations: readonly Mutation[], names: readonly string[]): unknown {
  let out: unknown = structuredClone(value)
  for (const m of mutations) out = applyOne(out, m, names)
  return out
}

/** A generated value as it goes into a body: a copy of its own. fast-check hands out the same
 *  object to every case that draws it (constantFrom, and again while shrinking), and a later
 *  mutation changes the body in place: without the copy one case could change, or make circular,
 *  a value every following case then sends. */
function fresh (value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value
}

function applyOne (value: unknown, m: Mutation, names: readonly string[]): unknown {
  if (typeof value !== 'object' || value === null) {
    return m.kind === 'set' ? fresh(m.value) : value
  }
  if (Array.isArray(value)) {
    const i = 'pick' in m ? m.pick % (value.length + 1) : value.length
    if (m.kind === 'set') value[i] = fresh(m.value)
    else if (m.kind === 'delete') value.splice(i, 1)
    else if (m.kind === 'nested' && i < value.length) value[i] = applyOne(value[i], m.inner, [])
    else if (m.kind === 'unknown') value.push(fresh(m.value))
    return value
  }
  const record = value as Record<string, unknown>
  const keys = [...new Set([...Object.keys(record), ...names])]
  const key = 'pick' in m && keys.length > 0 ? keys[m.pick % keys.length] as string : undefined
  switch (m.kind) {
    case 'set': if (key !== undefined) record[key] = fresh(m.value); break
    case 'delete': if (key !== undefined) delete record[key]; break
    case 'unknown': record[m.name] = fresh(m.value); break
    case 'proto': record[PROTO_KEY] = fresh(m.value); break
    case 'nested': if (key !== undefined) record[key] = applyOne(record[key], m.inner, []); break
  }
  return record
}

export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, { minLength: 1, maxLength: 3 })

/** What to do to the JSON text once serialized. */
export type TextDamage = 'none' | 'invalid-utf8' | 'truncate' | 'duplicate-key' | 'bom' | 'trailing-garbage' | 'not-json' | 'empty' | 'huge'

export const textDamage: fc.Arbitrary<TextDamage> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<TextDamage>('none') },
  { weight: 1, arbitrary: fc.constantFrom<TextDamage>('invalid-utf8', 'truncate', 'duplicate-key', 'bom', 'trailing-garbage', 'not-json', 'empty', 'huge') }
)

/** Serializes a (possibly mutated) value to the bytes sent, applying the raw markers and damage. */
export function toPayload (value: unknown, damage: TextDamage, seed: number): Buffer {
  let text = value === undefined ? '' : (JSON.stringify(value) ?? '')
  text = text.replaceAll(`"${PROTO_KEY}":`, '"__proto__":').replace(RAW_RE, (_m, raw: string) => raw)
  switch (damage) {
    case 'none': return Buffer.from(text)
    case 'truncate': return Buffer.from(text.slice(0, seed % Math.max(1, text.length)))
    case 'duplicate-key': return Buffer.from(text.startsWith('{"') ? text.replace(/^\{("[^"]*"):([^,}]*)/, '{$1:$2,$1:$2') : text)
    case 'bom': return Buffer.from('\uFEFF' + text)
    case 'trailing-garbage': return Buffer.from(text + '}{"x":1}')
    case 'not-json': return Buffer.from(['undefined', "{'a':1}", '{a:1}', 'NaN', '[1,]', '{"a":1,}', '\u0000'][seed % 7] as string)
    case 'empty': return Buffer.alloc(0)
    case 'huge': return Buffer.from(`{"padding":"${'y'.repeat(BODY_LIMIT)}"}`)
    case 'invalid-utf8': {
      const bytes = Buffer.from(text)
      const quote = bytes.indexOf(0x22, seed % Math.max(1, bytes.length))
      const at = quote === -1 ? bytes.length : quote + 1
      const bad = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf0, 0x28, 0x8c])][seed % 4] as Buffer
      return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)])
    }
  }
}

/** Content types: almost always JSON, sometimes not (415 expected, never a 5xx). */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 30, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, 'text/plain', 'application/json; charset=utf-16', 'application/JSON; charset=UTF-8',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json', 'application/json;;;', '*/*') }
)

/** Replacements for an id segment of a path. */
export const badId: fc.Arbitrary<string> = fc.oneof(
  fc.uuid().map(String),
  fc.constantFrom('', '0', '-1', '%00', '..', '.', '%2e%2e', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%2F..%2F..%2Fetc%2Fpasswd',
    '%252e%252e%252f', '%zz', '%', '%c0%af', '%ff%fe', '__proto__', 'constructor', 'prototype', 'hasOwnProperty',
    'null', 'undefined', '%20', '%0d%0aSet-Cookie:%20x=1', '*', '%2A', ';', 'a;b=c', '%3Cscript%3E', 'true'),
  fc.integer({ min: 400, max: 70_000 }).map(n => 'a'.repeat(n)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).map(s => encodeURIComponent(s)),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 24 }).map(s => s.replace(/[\s#?%]/g, '_'))
)
