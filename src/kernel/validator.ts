import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { TSchema } from 'typebox'
import { KrakenError, type ErrorDetail } from './errors.ts'

// ajv-formats is CommonJS with a default export that ESM sees one level down.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

/**
 * One Ajv for the whole emulator: route bodies, params and queries, and the merged items that
 * PUT validates. Options are deliberate: Fastify's defaults strip unknown fields and coerce
 * types, which would hide integrator typos and accept `"5"` for a number.
 */
export const ajv = addFormats(new Ajv({
  allErrors: true,
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: true,
  strict: false
}))

const cache = new WeakMap<object, ValidateFunction>()
/**
 * Validators by the schema's JSON, for the whole process: each emulator builds its resources'
 * schemas afresh, so a later `startEmulator()` in the same process would otherwise compile the
 * same item schemas again to check its seed. Ajv reads only a schema's JSON keywords (TypeBox's
 * symbol keys are not among them), so the same text is the same validator.
 */
const byText = new Map<string, ValidateFunction>()

export function compile (schema: TSchema): ValidateFunction {
  let fn = cache.get(schema)
  if (fn === undefined) {
    const text = JSON.stringify(schema)
    fn = byText.get(text)
    if (fn === undefined) {
      fn = ajv.compile(schema)
      byText.set(text, fn)
    }
    cache.set(schema, fn)
  }
  return fn
}

/**
 * A route validator that compiles on its first request. Ajv code generation for every route at
 * start was a third of a cold start; most emulators never see most routes. Fastify reads
 * `errors` from the function it was given, so they are passed through.
 */
export function lazyValidator (schema: TSchema): ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] } {
  let fn: ValidateFunction | undefined
  const validate = (data: unknown): boolean => {
    fn ??= compile(schema)
    const ok = fn(data)
    validate.errors = fn.errors
    return ok
  }
  validate.errors = undefined as ValidateFunction['errors']
  return validate
}

/** Validates `value` (applying defaults in place) and throws a 400 in the envelope naming each field. */
export function assertValid (schema: TSchema, value: unknown, what = 'body'): void {
  const fn = compile(schema)
  if (!fn(value)) throw validationError(fn.errors ?? [], what)
}

export function validationError (errors: readonly ErrorObject[], what = 'body'): KrakenError {
  const details = detailsOf(errors)
  const first = details[0]
  const message = first === undefined ? `${what} is invalid` : `${first.field} ${first.message}`
  return new KrakenError('Validation', message, details)
}

/** Ajv errors as `{field, message}`; anyOf noise is collapsed to the one clearest line per field. */
export function detailsOf (errors: readonly ErrorObject[]): ErrorDetail[] {
  const byField = new Map<string, string>()
  for (const e of errors) {
    const path = e.instancePath.split('/').slice(1).map(decodePointer).join('.')
    let field = path
    let message = e.message ?? 'is invalid'
    if (e.keyword === 'additionalProperties') {
      const name = String((e.params as { additionalProperty: string }).additionalProperty)
      field = path === '' ? name : `${path}.${name}`
      message = 'is not a known field'
    } else if (e.keyword === 'required') {
      const name = String((e.params as { missingProperty: string }).missingProperty)
      field = path === '' ? name : `${path}.${name}`
      message = 'is required'
    } else if (e.keyword === 'enum') {
      message = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map(v => JSON.stringify(v)).join(', ')}`
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`
    }
    if (field === '') field = 'body'
    // A union reports every branch; the first branch's complaint is kept unless a later one is
    // more specific than "must match a schema in anyOf".
    const previous = byField.get(field)
    if (previous === undefined || previous.startsWith('must match a schema')) byField.set(field, message)
  }
  return [...byField].map(([field, message]) => ({ field, message }))
}

function decodePointer (segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~')
}
