// The preset file (export/import) and the configuration a preset holds. A preset is the
// whole-device configuration: the media collections (streams, inputs, outputs, transcoders,
// metadata sources and their relays), not accounts, network, services, certificates or licence
// (kraken-api.md section 10 [docs]). File format [ours], versioned like the data file.
import { findVersionProblem, migrateDb, type Db, type Item, type Store } from '../kernel/store.ts'
import type { Registry } from '../kernel/registry.ts'
import { KrakenError, invalid } from '../kernel/errors.ts'
import { CURRENT_FORMAT, MIGRATIONS } from '../migrations/index.ts'

export const PRESET_FORMAT_NAME = 'kraken-emulator-preset'
export const PRESET_FORMAT_VERSION = 1
export const PRESET_FORMAT = `${PRESET_FORMAT_NAME}/${PRESET_FORMAT_VERSION}`

/** Collections that are not configuration: never saved in a preset, never replaced by a load. */
const NOT_CONFIGURATION = new Set(['accounts'])

/** Names like the sibling Makito X4's: a file name ending `.cfg` [ours: the character set]. */
export const PRESET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,59}\.cfg$/
export const PRESET_NAME_RULE = '1-60 characters of A-Z a-z 0-9 _ . - followed by ".cfg" (e.g. "class-1.cfg")'

export type Configuration = Record<string, Item[]>

/** The data format of the items of a preset that names none: every item before migrations existed. */
export const FIRST_DATA_FORMAT = 'kraken-emulator/1'

export interface PresetFile {
  format: string
  /** The data-file format its items are written in (kraken-emulator/<version>): they migrate like a data file's. */
  data_format: string
  name: string
  /** Epoch seconds. */
  saved: number
  configuration: Configuration
}

/** The collections a preset holds, in the registry's order. */
export function configurationCollections (registry: Registry): string[] {
  return registry.resources.map(r => r.collection).filter(c => !NOT_CONFIGURATION.has(c))
}

export function currentConfiguration (store: Store, registry: Registry): Configuration {
  const out: Configuration = {}
  for (const c of configurationCollections(registry)) out[c] = structuredClone([...store.list(c)]) as Item[]
  return out
}

/** The device as it would be with this configuration; everything else (accounts, system) unchanged. */
export function withConfiguration (db: Db, configuration: Configuration, registry: Registry): Db {
  const next = structuredClone(db)
  for (const c of configurationCollections(registry)) next.collections[c] = structuredClone(configuration[c] ?? [])
  return next
}

export function assertPresetName (name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !PRESET_NAME.test(name)) throw invalid(field, `must be ${PRESET_NAME_RULE}`)
  return name
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads an uploaded preset file; throws a 400 naming the first problem. The version comes first:
 * a file from a newer emulator may be shaped differently, so nothing else is read from it.
 */
export function parsePresetFile (body: unknown, registry: Registry): PresetFile {
  if (!isRecord(body)) throw invalid('file', 'must be a JSON object (a preset file)')
  const format = body.format
  const match = typeof format === 'string' ? new RegExp(`^${PRESET_FORMAT_NAME}/(\\d+)$`).exec(format) : null
  if (match === null) throw invalid('format', `must be "${PRESET_FORMAT}" (found ${JSON.stringify(format) ?? 'nothing'})`)
  const version = Number(match[1])
  if (version > PRESET_FORMAT_VERSION) {
    throw invalid('format', `is ${String(format)}, written by a newer emulator; this one reads ${PRESET_FORMAT} and older`)
  }
  if (version < 1) throw invalid('format', `${String(format)} is no format of this emulator`)
  const dataFormat = body.data_format ?? FIRST_DATA_FORMAT
  if (typeof dataFormat !== 'string') throw invalid('data_format', 'must be a string, "kraken-emulator/<version>"')
  const versionProblem = findVersionProblem(dataFormat, MIGRATIONS)
  if (versionProblem !== undefined) throw invalid('data_format', versionProblem)
  const name = assertPresetName(body.name)
  const saved = body.saved ?? 0
  if (typeof saved !== 'number' || !Number.isInteger(saved) || saved < 0) throw invalid('saved', 'must be epoch seconds (an integer, 0 or more)')
  if (!isRecord(body.configuration)) throw invalid('configuration', 'must be an object of collections')
  const known = configurationCollections(registry)
  const configuration: Configuration = {}
  for (const [collection, items] of Object.entries(body.configuration)) {
    if (!known.includes(collection)) throw invalid(`configuration.${collection}`, `is no collection a preset holds (${known.join(', ')})`)
    if (!Array.isArray(items)) throw invalid(`configuration.${collection}`, 'must be an array')
    const idField = registry.idField(collection)
    for (const [index, item] of items.entries()) {
      if (!isRecord(item) || typeof item[idField] !== 'string') throw invalid(`configuration.${collection}.${index}`, `must be an object with a string "${idField}"`)
    }
    configuration[collection] = items as Item[]
  }
  const extra = Object.keys(body).filter(k => !['format', 'data_format', 'name', 'saved', 'configuration'].includes(k))
  if (extra.length > 0) throw invalid(extra[0]!, 'is no field of a preset file')
  return { format: PRESET_FORMAT, data_format: CURRENT_FORMAT, name, saved, configuration: configurationAtCurrent(configuration, dataFormat) }
}

/**
 * A configuration written in an older data format, brought forward by the data file's own
 * migrations (a preset saved or exported before a migration holds items of the older shape).
 * Throws a 400 when a migration refuses it.
 */
export function configurationAtCurrent (configuration: Configuration, dataFormat: string | undefined): Configuration {
  const format = dataFormat ?? FIRST_DATA_FORMAT
  if (format === CURRENT_FORMAT) return configuration
  try {
    return migrateDb({ format, fixture: '', collections: structuredClone(configuration), singletons: {} }, MIGRATIONS).collections
  } catch (error) {
    throw invalid('data_format', (error as Error).message)
  }
}

/** A 400 for a configuration that today's rules (src/check-db.ts) refuse; nothing was changed. */
export function rulesRefused (name: string, error: unknown): KrakenError {
  const message = error instanceof Error ? error.message : String(error)
  return new KrakenError('Validation', `preset '${name}' does not pass today's rules, nothing was changed: ${message}`,
    [{ field: 'configuration', message }])
}
