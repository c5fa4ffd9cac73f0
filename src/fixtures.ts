import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { findVersionProblem, formatOf, migrateDb, versionOf, type Db, type Item } from './kernel/store.ts'
import { MIGRATIONS } from './migrations/index.ts'

/** fixtures/ beside src/ (and beside dist/ in the package). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url))

/**
 * A fixture is read-only seed data: the media objects and system singletons of a device.
 * Accounts may be listed with a plain `password` (fixtures are test data); when a fixture lists
 * none, the three default accounts are created with the configured passwords.
 */
export interface Fixture {
  name: string
  /** the data format its items are written in (README "Data file"); a fixture that names none
   *  predates format versions, which makes it version 1 */
  format: string
  description: string
  collections: Record<string, Item[]>
  singletons: Record<string, Record<string, unknown>>
}

export class FixtureError extends Error {}

/** The fixture names shipped in fixtures/ (one folder each). */
export function fixtureNames (): string[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort()
}

/**
 * Loads a fixture: a name in fixtures/, or a path to a fixture folder or a single JSON file.
 * A folder holds `fixture.json` ({description}), `singletons.json` ({name: object}) and one
 * `<collection>.json` array per collection (nested ones as `metadata.relays.json`), so each
 * resource's seed data reads on its own. A single file is `{description, collections, singletons}`.
 */
export function loadFixture (nameOrPath: string): Fixture {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes(path.sep) || nameOrPath.endsWith('.json')
  if (!isPath && !/^[a-z0-9][a-z0-9_-]*$/i.test(nameOrPath)) throw new FixtureError(`fixture name '${nameOrPath}' is not valid`)
  const target = isPath ? path.resolve(nameOrPath) : path.join(FIXTURES_DIR, nameOrPath)
  if (!existsSync(target)) {
    const known = isPath ? '' : ` (known fixtures: ${fixtureNames().join(', ')})`
    throw new FixtureError(`fixture '${nameOrPath}' not found${known}`)
  }
  const data: Partial<Fixture> = statSync(target).isDirectory() ? readFolder(target) : readObject(target) as Partial<Fixture>
  return toFixture(isPath ? target : nameOrPath, target, data)
}

function readJson (file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new FixtureError(`fixture file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new FixtureError(`fixture file ${file}: not valid JSON (${(error as Error).message})`)
  }
}

function readObject (file: string): Record<string, unknown> {
  const raw = readJson(file)
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FixtureError(`fixture file ${file}: must be a JSON object`)
  return raw as Record<string, unknown>
}

function readFolder (dir: string): Partial<Fixture> {
  const collections: Record<string, Item[]> = {}
  let singletons: Record<string, Record<string, unknown>> = {}
  let description = ''
  let format: unknown
  for (const file of readdirSync(dir).filter(f => f.endsWith('.json')).sort()) {
    const full = path.join(dir, file)
    if (file === 'fixture.json') {
      const meta = readObject(full)
      description = typeof meta.description === 'string' ? meta.description : ''
      format = meta.format
    } else if (file === 'singletons.json') {
      singletons = readObject(full) as Record<string, Record<string, unknown>>
    } else {
      const items = readJson(full)
      if (!Array.isArray(items)) throw new FixtureError(`fixture file ${full}: must be a JSON array of items`)
      collections[file.slice(0, -5)] = items as Item[]
    }
  }
  return { description, format: format as string | undefined, collections, singletons }
}

function toFixture (name: string, file: string, data: Partial<Fixture>): Fixture {
  const collections = data.collections ?? {}
  const singletons = data.singletons ?? {}
  if (typeof collections !== 'object' || Array.isArray(collections) || typeof singletons !== 'object' || Array.isArray(singletons)) {
    throw new FixtureError(`fixture ${file}: collections and singletons must be objects`)
  }
  const format = data.format === undefined ? formatOf(1) : data.format
  if (versionOf(format) === undefined) throw new FixtureError(`fixture ${file}: "format" must be "kraken-emulator/<version>" (found ${JSON.stringify(format)})`)
  const newer = findVersionProblem(format, MIGRATIONS)
  if (newer !== undefined) throw new FixtureError(`fixture ${file}: ${newer}`)
  return {
    name,
    format,
    description: typeof data.description === 'string' ? data.description : '',
    collections,
    singletons
  }
}

/** A fresh Db from a fixture, in the current format; deep-copied so the fixture stays read-only. */
export function dbFromFixture (fixture: Fixture, accounts: Item[]): Db {
  const collections = structuredClone(fixture.collections)
  collections.accounts = accounts
  return migrateDb({
    format: fixture.format,
    fixture: fixture.name,
    collections,
    singletons: structuredClone(fixture.singletons)
  }, MIGRATIONS)
}
