import { createHash } from 'node:crypto'
import type { Registry } from './kernel/registry.ts'
import type { Db } from './kernel/store.ts'
import { compile } from './kernel/validator.ts'
import { detailsOf } from './kernel/validator.ts'
import { PARENT_KEY } from './kernel/define-resource.ts'
import { checkSystemSingletons } from './system/index.ts'
import { CURRENT_FORMAT } from './migrations/index.ts'
import { version } from './config.ts'

/**
 * Checks a whole Db against the resource schemas: every collection is known, every item matches
 * its schema and nested items name an existing parent; fills each item's missing defaults in.
 * Then the rules the API enforces on every write: references resolve and unique fields are unique
 * among siblings, so a hand-edited data file or fixture cannot start a device the API could never
 * have produced. Throws one Error naming the first problem; used on data files at start and on
 * fixtures before they are seeded.
 */
export function checkDb (db: Db, registry: Registry): void {
  // The schemas are this release's: an older db is migrated before it is checked (migrate-db.ts).
  if (db.format !== CURRENT_FORMAT) throw new Error(`"format" is ${JSON.stringify(db.format)}, not the current "${CURRENT_FORMAT}"`)
  checkSystemSingletons(db)
  for (const [collection, items] of Object.entries(db.collections)) {
    const resource = registry.get(collection)
    if (resource === undefined) throw new Error(`unknown collection '${collection}'`)
    const validate = compile(resource.schemas.Item)
    for (const [index, item] of items.entries()) {
      const { [PARENT_KEY]: parent, ...fields } = item
      for (const f of resource.spec.internal ?? []) delete fields[f]
      const checked = structuredClone(fields)
      if (!validate(checked)) {
        const d = detailsOf(validate.errors ?? [])[0]
        throw new Error(`${collection}[${index}] (${String(item[resource.idField])}): ${d === undefined ? 'does not match its schema' : `${d.field} ${d.message}`}`)
      }
      // Validation filled the schema defaults in: keep them, so every key of every item exists
      // (a fixture or an older data file may leave optional fields out).
      for (const [key, value] of Object.entries(checked)) if (!(key in item)) item[key] = value
      if (resource.parent !== undefined) {
        if (typeof parent !== 'string' || db.collections[resource.parent.collection]?.some(p => p[resource.parent!.idField] === parent) !== true) {
          throw new Error(`${collection}[${index}]: its parent ${resource.parent.singular} '${String(parent)}' does not exist`)
        }
      }
    }
  }
  checkRelations(db, registry)
}

/**
 * Names what checkDb checks against (the store's `checkKey`): the release, the data format and a
 * digest of every resource's schema and rules, so a data file stamped by another build (even one
 * of the same version with a changed schema) is checked in full.
 */
export function checkKeyOf (registry: Registry): string {
  const rules = registry.resources.map(r => [r.collection, r.schemas.Item, r.spec.references, r.spec.unique, r.spec.internal, r.parent?.collection])
  return `kraken-emulator@${version()} ${CURRENT_FORMAT} ${createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 16)}`
}

/** References resolve and unique fields are unique among siblings, as crud-routes enforces. */
function checkRelations (db: Db, registry: Registry): void {
  for (const resource of registry.resources) {
    const items = db.collections[resource.collection] ?? []
    for (const [field, plural] of Object.entries(resource.spec.references ?? {})) {
      const target = registry.top(plural)
      if (target === undefined) throw new Error(`${resource.collection}.${field} references unknown resource ${plural}`)
      const ids = new Set((db.collections[target.collection] ?? []).map(item => item[target.idField]))
      for (const [index, item] of items.entries()) {
        const values = Array.isArray(item[field]) ? item[field] as unknown[] : [item[field]]
        const missing = values.find(value => value !== null && value !== undefined && !ids.has(value))
        if (missing !== undefined) {
          throw new Error(`${resource.collection}[${index}] (${String(item[resource.idField])}): ${field} names ${target.singular} '${String(missing)}', which does not exist`)
        }
      }
    }
    for (const field of resource.spec.unique ?? []) {
      const seen = new Map<string, unknown>()
      for (const [index, item] of items.entries()) {
        const value = item[field]
        if (value === undefined || value === null || value === '') continue
        const key = `${String(item[PARENT_KEY] ?? '')}\u0000${JSON.stringify(value)}`
        if (seen.has(key)) {
          throw new Error(`${resource.collection}[${index}] (${String(item[resource.idField])}): ${field} '${String(value)}' is already used by ${resource.singular} ${String(seen.get(key))}`)
        }
        seen.set(key, item[resource.idField])
      }
    }
  }
}
