// The persistent store: the whole state in memory (reads are synchronous), every mutation made
// durable before the promise of `commit` resolves. It knows no HTTP: it returns values or
// undefined and rejects with plain errors; the route layer maps them.
//
// Files, when `file` is set (see durable-writer.ts for the write path, open-durable.ts for recovery):
//   <file>                 the JSON snapshot, the file of record a user can open and read
//   <file>.journal.<gen>   append-only journal of the commits made after snapshot <gen>
//   <file>.lock            the pid of the process that has the store open
import { findDbProblem } from './find-db-problem.ts'
import { MemoryState } from './memory-state.ts'
import { findNotCurrentProblem } from './migrate-db.ts'
import { openDurable } from './open-durable.ts'
import { StateStore } from './state-store.ts'
import type { Store, StoreOptions } from './store-types.ts'

export { StoreLoadError } from './store-load-error.ts'
export { formatOf, versionOf } from './db-format.ts'
export { currentVersion, findVersionProblem, migrateDb } from './migrate-db.ts'
export { StoreUnavailableError } from './store-unavailable-error.ts'

export type { Db, Item, Migration, Op, Store, StoreOptions } from './store-types.ts'

export async function openStore (options: StoreOptions): Promise<Store> {
  if (options.file === undefined) {
    const db = options.seed()
    const problem = findDbProblem(db, options.idField) ?? findNotCurrentProblem(db.format, options.migrations ?? [])
    if (problem !== undefined) throw new Error(`seed: ${problem}`)
    return new StateStore(new MemoryState(db, options.idField), options.idField, undefined, undefined)
  }
  const { state, writer } = await openDurable({ ...options, file: options.file })
  return new StateStore(state, options.idField, options.file, writer)
}
