import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { Db, Item } from './kernel/store.ts'

/** fixtures/ beside src/ (and beside dist/ in the package). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url))

/**
 * A fixture is read-only seed data: the media objects and system singletons of a device.
 * Accounts may be listed with a plain `password` (fixtures are test data); when a fixture lists
 * none, the three default accounts are created with the configured passwords.
 */
export interface Fixture {
  name: string
  description: string
  collections: Record<string, Item[]>
  singletons: Record<string, Record<string, unknown>>
}

export class FixtureError extends Error {}

/** The fixture names shipped in fixtures/. */
export function fixtureNames (): string[] {
  return readdirSync(FIXTURES_DIR).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5)).sort()
}

/** Loads `name` from fixtures/, or a JSON file when given a path (anything with a slash or .json). */
export function loadFixture (nameOrPath: string): Fixture {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes(path.sep) || nameOrPath.endsWith('.json')
  if (!isPath && !/^[a-z0-9][a-z0-9_-]*$/i.test(nameOrPath)) throw new FixtureError(`fixture name '${nameOrPath}' is not valid`)
  const file = isPath ? path.resolve(nameOrPath) : path.join(FIXTURES_DIR, `${nameOrPath}.json`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const known = isPath ? '' : ` (known fixtures: ${fixtureNames().join(', ')})`
    throw new FixtureError(`fixture '${nameOrPath}' cannot be read: ${code ?? String(error)}${known}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new FixtureError(`fixture ${file}: not valid JSON (${(error as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FixtureError(`fixture ${file}: must be a JSON object`)
  const data = raw as Partial<Fixture>
  const collections = data.collections ?? {}
  const singletons = data.singletons ?? {}
  if (typeof collections !== 'object' || Array.isArray(collections) || typeof singletons !== 'object' || Array.isArray(singletons)) {
    throw new FixtureError(`fixture ${file}: collections and singletons must be objects`)
  }
  return {
    name: isPath ? file : nameOrPath,
    description: typeof data.description === 'string' ? data.description : '',
    collections,
    singletons
  }
}

/** A fresh Db from a fixture; deep-copied so the fixture stays read-only. */
export function dbFromFixture (fixture: Fixture, accounts: Item[]): Db {
  const collections = structuredClone(fixture.collections)
  collections.accounts = accounts
  return {
    format: 'kraken-emulator/1',
    fixture: fixture.name,
    collections,
    singletons: structuredClone(fixture.singletons)
  }
}
