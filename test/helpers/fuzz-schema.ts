// Turns the JSON schemas of /apidoc/json into fast-check arbitraries of *valid-looking* values.
// Only the keywords our TypeBox schemas produce are handled; anything else falls back to a
// generic JSON value, which the mutation step would produce anyway.
import fc from 'fast-check'

export type JsonSchema = {
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  nullable?: boolean
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  minLength?: number
  maxLength?: number
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  default?: unknown
}

export interface SchemaContext {
  /** Ids that exist in the store, so references in generated bodies sometimes resolve. */
  knownIds: readonly string[]
}

/** Valid strings are kept short: size limits are the mutation step's job, not this one's. */
const MAX_VALID_STRING = 48

export function arbitraryOf (schema: JsonSchema | undefined, ctx: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 6) return fc.jsonValue({ maxDepth: 2 })
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return withNull(schema, fc.constantFrom(...schema.enum))
  const branches = schema.anyOf ?? schema.oneOf
  if (branches !== undefined && branches.length > 0) return withNull(schema, fc.oneof(...branches.map(b => arbitraryOf(b, ctx, depth + 1))))
  if (schema.allOf !== undefined && schema.allOf.length > 0) return arbitraryOf(Object.assign({}, ...schema.allOf) as JsonSchema, ctx, depth + 1)
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type]
  if (types.length > 1) return fc.oneof(...types.map(type => arbitraryOf({ ...schema, type }, ctx, depth + 1)))
  switch (types[0]) {
    case 'null': return fc.constant(null)
    case 'boolean': return withNull(schema, fc.boolean())
    case 'integer': return withNull(schema, integerOf(schema))
    case 'number': return withNull(schema, numberOf(schema))
    case 'string': return withNull(schema, stringOf(schema, ctx))
    case 'array': return withNull(schema, arrayOf(schema, ctx, depth))
    case 'object': return withNull(schema, objectOf(schema, ctx, depth))
    default: return fc.jsonValue({ maxDepth: 2 })
  }
}

function withNull (schema: JsonSchema, arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return schema.nullable === true ? fc.option(arb, { nil: null, freq: 4 }) : arb
}

function integerOf (schema: JsonSchema): fc.Arbitrary<unknown> {
  const min = Math.ceil(schema.minimum ?? (schema.exclusiveMinimum === undefined ? -1000 : schema.exclusiveMinimum + 1))
  const max = Math.floor(schema.maximum ?? (schema.exclusiveMaximum === undefined ? Math.max(min, 0) + 100_000 : schema.exclusiveMaximum - 1))
  const boundaries = [min, max].filter(n => Number.isSafeInteger(n))
  return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) }) }, { weight: 1, arbitrary: fc.constantFrom(...boundaries) })
}

function numberOf (schema: JsonSchema): fc.Arbitrary<unknown> {
  const min = schema.minimum ?? -1e6
  const max = schema.maximum ?? 1e6
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
}

function stringOf (schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<unknown> {
  if (schema.format === 'uuid') {
    return ctx.knownIds.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ctx.knownIds) }, { weight: 1, arbitrary: fc.uuid() }) : fc.uuid()
  }
  if (schema.format === 'ipv4') return fc.ipV4()
  if (schema.format === 'hostname') return fc.oneof(fc.ipV4(), fc.domain())
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map(d => d.toISOString())
  if (schema.format === 'uri') return fc.webUrl()
  const minLength = schema.minLength ?? 0
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? MAX_VALID_STRING, MAX_VALID_STRING))
  if (schema.pattern !== undefined) {
    let pattern: RegExp | undefined
    try {
      pattern = new RegExp(schema.pattern)
    } catch {
      pattern = undefined // a pattern JavaScript cannot compile: plain strings will do
    }
    if (pattern !== undefined) {
      const re = pattern
      return fc.stringMatching(re).filter(s => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity) && re.test(s))
    }
  }
  return fc.string({ minLength, maxLength, unit: 'grapheme-ascii' })
}

function arrayOf (schema: JsonSchema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const minLength = schema.minItems ?? 0
  const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 4, 6))
  const item = arbitraryOf(schema.items, ctx, depth + 1)
  if (schema.uniqueItems === true) return fc.uniqueArray(item, { minLength, maxLength, selector: v => JSON.stringify(v) })
  return fc.array(item, { minLength, maxLength })
}

function objectOf (schema: JsonSchema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {}
  const names = Object.keys(properties)
  if (names.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const name of names) model[name] = arbitraryOf(properties[name], ctx, depth + 1)
  return fc.record(model, { requiredKeys: (schema.required ?? []).filter(n => names.includes(n)) })
}
