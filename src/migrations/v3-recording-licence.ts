import { createHash } from 'node:crypto'
import type { Db, Item, Migration } from '../kernel/store.ts'

/** The features a version 2 device ran without asking: every one the licence format knows. */
const V2_FEATURES = ['Recording', 'KLV']
/** A migrated location's quota: 1 TB in megabytes, room enough for what version 2 recorded. */
const MIGRATED_QUOTA_MB = 1_000_000

/** A UUID v4-shaped id that depends only on `seed`: migrating the same file twice gives the same ids. */
function stableUuid (seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex')
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/**
 * Version 3 (issue 22): the licence lists its `features` (a version 2 licence gets both, since
 * version 2 checked none); archive locations are a collection; a `ts_segment_archive` output names
 * one in `archive_location` instead of taking a path in `url`, and every other output has
 * `archive_location: null`. Each distinct path a version 2 archive output held becomes a local
 * location at that path (named after the first output using it, 1 TB quota) and the output's url
 * becomes `<path>/<output uuid>`, as version 3 derives it. Nothing else changes.
 */
export const v3RecordingLicence: Migration = (db: Db): Db => {
  const singletons = { ...db.singletons }
  const license = singletons.license
  if (license !== undefined && !Array.isArray(license.features)) singletons.license = { ...license, features: [...V2_FEATURES] }

  const locations: Item[] = [...(db.collections.archive_locations ?? [])]
  const byPath = new Map<string, string>()
  const outputs = (db.collections.outputs ?? []).map(output => {
    if (output.protocol !== 'ts_segment_archive') return { ...output, archive_location: output.archive_location ?? null }
    const path = typeof output.url === 'string' && output.url.startsWith('/') ? output.url.replace(/\/+$/, '') || '/data/archive' : '/data/archive'
    let uuid = byPath.get(path)
    if (uuid === undefined) {
      uuid = stableUuid(`archive-location:${path}`)
      byPath.set(path, uuid)
      locations.push({
        uuid,
        name: String(output.name).slice(0, 64),
        type: 'local',
        path,
        nfs_server: null,
        nfs_export: null,
        quota_mb: MIGRATED_QUOTA_MB,
        used_bytes: 0
      })
    }
    return { ...output, archive_location: uuid, url: `${path}/${String(output.uuid)}` }
  })
  const collections: Record<string, Item[]> = { ...db.collections, archive_locations: locations }
  if (db.collections.outputs !== undefined) collections.outputs = outputs
  return { ...db, collections, singletons }
}
