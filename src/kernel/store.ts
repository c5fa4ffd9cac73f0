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
import { openDurable } from './open-durable.ts'
import { StateStore } from './state-store.ts'

export { StoreLoadError } from './store-load-error.ts'

export type Item = Record<string, unknown>

export interface Db {
  format: 'kraken-emulator/1'
  fixture: string
  collections: Record<string, Item[]>
  singletons: Record<string, Record<string, unknown>>
}

export type Op =
  | { op: 'put', collection: string, id: string, item: Item }
  | { op: 'delete', collection: string, id: string }
  | { op: 'set', singleton: string, value: Record<string, unknown> }

export interface StoreOptions {
  /** undefined => in memory only */
  file?: string
  /** used when there is no data file (or in memory) */
  seed: () => Db
  idField: (collection: string) => string
  /** throws (an Error with a clear message) when a loaded db is invalid */
  check?: (db: Db) => void
  /** journal size (bytes) below which no compaction happens; default 1 MiB. Lowered by tests. */
  compactBytes?: number
}

export interface Store {
  readonly file: string | undefined
  fixture (): string
  list (collection: string): readonly Item[]
  get (collection: string, id: string): Item | undefined
  /** The items whose `field` equals `value` or, for an array field, contains it (indexed: O(matches)). */
  lookup (collection: string, field: string, value: unknown): Item[]
  singleton (name: string): Record<string, unknown> | undefined
  commit (ops: Op[]): Promise<void>
  replace (db: Db): Promise<void>
  snapshot (): Db
  close (): Promise<void>
}

export async function openStore (options: StoreOptions): Promise<Store> {
  if (options.file === undefined) {
    const db = options.seed()
    const problem = findDbProblem(db, options.idField)
    if (problem !== undefined) throw new Error(`seed: ${problem}`)
    return new StateStore(new MemoryState(db, options.idField), options.idField, undefined, undefined)
  }
  const { state, writer } = await openDurable({ ...options, file: options.file })
  return new StateStore(state, options.idField, options.file, writer)
}
