import { iso31661 } from 'iso-3166/1.js'
import type { Db, Item, Migration } from '../kernel/store.ts'

const CODES: ReadonlySet<string> = new Set(iso31661.map(c => c.alpha3))

/**
 * Version 2 checks a metadata security set's countries against ISO 3166-1 alpha-3 (issue 20);
 * version 1 took any three capitals. A stored code that is none is dropped: `classifying_country`
 * becomes "" (and the set is switched off, since an enabled set needs one), unknown
 * `object_countries` leave the list. Nothing else changes.
 */
export const v2CountryCodes: Migration = (db: Db): Db => {
  const metadata = db.collections.metadata
  if (metadata === undefined) return db
  return { ...db, collections: { ...db.collections, metadata: metadata.map(fixCountries) } }
}

function fixCountries (item: Item): Item {
  const set = item.security_set as { enabled?: unknown, classifying_country?: unknown, object_countries?: unknown } | undefined
  if (set === undefined || set === null || typeof set !== 'object') return item
  const next: Record<string, unknown> = { ...set }
  const code = set.classifying_country
  if (typeof code === 'string' && code !== '' && !CODES.has(code)) {
    next.classifying_country = ''
    next.enabled = false
  }
  if (Array.isArray(set.object_countries)) next.object_countries = set.object_countries.filter(c => typeof c === 'string' && CODES.has(c))
  return { ...item, security_set: next }
}
