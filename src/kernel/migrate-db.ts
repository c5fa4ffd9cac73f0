// Moving a Db forward through the format history. A release that changes what a stored item may
// hold adds a migration, and with it a format version: it opens an older file by migrating it,
// and refuses a newer one, whose content it cannot know.
import { formatOf, versionOf } from './db-format.ts'
import type { Db, Migration } from './store-types.ts'

/** The version a migration history leads to: the first format is 1, each migration adds one. */
export function currentVersion (migrations: readonly Migration[]): number {
  return migrations.length + 1
}

/** Why a Db of this format cannot be used with this history (it is newer), or undefined. */
export function findVersionProblem (format: string, migrations: readonly Migration[]): string | undefined {
  const version = versionOf(format)
  const current = currentVersion(migrations)
  if (version === undefined) return `"format" ${JSON.stringify(format)} names no version`
  if (version > current) return `format version ${version} was written by a newer kraken-emulator; this one reads versions up to ${current}`
  return undefined
}

/** Why a Db this release built itself (a seed) is not at the current version, or undefined. */
export function findNotCurrentProblem (format: string, migrations: readonly Migration[]): string | undefined {
  const current = formatOf(currentVersion(migrations))
  return format === current ? undefined : `"format" is ${JSON.stringify(format)}, not the current "${current}"`
}

/** `db` at the current version: a migrated copy, or `db` itself when it is current already.
 *  Throws on a newer db (callers check findVersionProblem first, to say which file). */
export function migrateDb (db: Db, migrations: readonly Migration[]): Db {
  const problem = findVersionProblem(db.format, migrations)
  if (problem !== undefined) throw new Error(problem)
  const from = versionOf(db.format)!
  const current = currentVersion(migrations)
  if (from === current) return db
  // A copy: the caller's db (the recovered state, whose items MemoryState shares) stays as it was.
  let out = structuredClone(db)
  for (let version = from + 1; version <= current; version++) {
    try {
      out = migrations[version - 2]!(out)
    } catch (err) {
      throw new Error(`migrating to format version ${version}: ${(err as Error).message}`, { cause: err })
    }
    out.format = formatOf(version)
  }
  return out
}
