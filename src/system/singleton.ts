import type { Static, TObject } from 'typebox'
import type { Store } from '../kernel/store.ts'
import { compile, detailsOf } from '../kernel/validator.ts'

/**
 * A system singleton as the API shows it: the stored value with every missing key filled from
 * the schema's defaults (the factory values), so a fixture or an older data file that lacks a
 * key still answers with every key of kraken-api.md section 7.
 */
export function readSingleton<S extends TObject> (store: Store, name: string, schema: S): Static<S> {
  const value = structuredClone(store.singleton(name) ?? {})
  const validate = compile(schema)
  if (!validate(value)) {
    // A data file edited by hand can hold anything; this is a server fault, logged and masked as a 500.
    const first = detailsOf(validate.errors ?? [])[0]
    throw new Error(`stored singleton '${name}' is invalid: ${first === undefined ? 'does not match its schema' : `${first.field} ${first.message}`}`)
  }
  return value as Static<S>
}
