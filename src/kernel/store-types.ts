// The store's vocabulary, shared by store.ts (the entry point everyone else imports) and the
// files that implement it. A leaf: it imports nothing, so no implementation file has to import
// store.ts back.

export type Item = Record<string, unknown>

export interface Db {
  /** `kraken-emulator/<version>` (see migrate-db.ts) */
  format: string
  fixture: string
  collections: Record<string, Item[]>
  singletons: Record<string, Record<string, unknown>>
}

export type Op =
  | { op: 'put', collection: string, id: string, item: Item }
  | { op: 'delete', collection: string, id: string }
  | { op: 'set', singleton: string, value: Record<string, unknown> }

/** Turns a Db of format version N-1 into version N; it may change its argument. */
export type Migration = (db: Db) => Db

export interface StoreOptions {
  /** undefined => in memory only */
  file?: string
  /** used when there is no data file (or in memory) */
  seed: () => Db
  idField: (collection: string) => string
  /** throws (an Error with a clear message) when a loaded db is invalid */
  check?: (db: Db) => void
  /** Names what `check` checks (the release and its schemas). Every snapshot the store writes
   *  then ends with a stamp of this key and the checksum of the bytes before it, and a data file
   *  whose stamp matches, with no journal to replay, is trusted without running `check` again:
   *  its content is exactly what a checked state of this release wrote. Any other file (edited
   *  by hand, from another release, recovered after a crash) is checked in full. */
  checkKey?: string
  /** the data file's format history: a file of an older version is migrated on opening, a newer
   *  one refused; the current version is `migrations.length + 1`. Default: none (version 1). */
  migrations?: readonly Migration[]
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
  /** How many times a failed write was undone in memory so far. A change computed from reads made
   *  before an await passes the count read before them as `basis`, and is refused (with a
   *  StoreUnavailableError) if a rollback happened meanwhile: it may rest on an undone write. */
  rollbacks (): number
  /** Resolves once durable. Rejects with a StoreUnavailableError when the data file cannot be
   *  written; the change (and every change applied after it) is then undone in memory. */
  commit (ops: Op[], basis?: number): Promise<void>
  replace (db: Db): Promise<void>
  snapshot (): Db
  close (): Promise<void>
}
