// Opening a durable store: lock, load the snapshot, replay the journals, then (only once all of
// that succeeded) tidy up. Every check happens before the first write, so a file that fails to
// load is left exactly as it was for the user to inspect.
import fs from 'node:fs/promises'
import path from 'node:path'
import { Low } from 'lowdb'
import { DurableWriter } from './durable-writer.ts'
import { acquireLock } from './file-lock.ts'
import { findDbProblem } from './find-db-problem.ts'
import { versionOf } from './db-format.ts'
import { JournalFile, journalPath, listJournals, readJournal } from './journal.ts'
import { keepBackup } from './keep-backup.ts'
import { MemoryState } from './memory-state.ts'
import { findNotCurrentProblem, findVersionProblem, migrateDb } from './migrate-db.ts'
import { SnapshotFile, type SnapshotDoc } from './snapshot-file.ts'
import { StoreLoadError } from './store-load-error.ts'
import type { Db, StoreOptions } from './store-types.ts'

export async function openDurable (options: StoreOptions & { file: string }): Promise<{ state: MemoryState, writer: DurableWriter }> {
  const { compactBytes } = options
  if (compactBytes !== undefined && !(compactBytes > 0)) throw new Error(`compactBytes must be positive (got ${compactBytes})`)
  const dir = path.dirname(options.file)
  await io(dir, 'cannot create the data directory', () => makeDir(dir))
  const releaseLock = await acquireLock(options.file)
  try {
    return await recover(options, releaseLock)
  } catch (err) {
    await releaseLock()
    throw err
  }
}

async function recover (options: StoreOptions & { file: string }, releaseLock: () => Promise<void>): Promise<{ state: MemoryState, writer: DurableWriter }> {
  const { file, idField } = options
  const migrations = options.migrations ?? []
  const snapshot = new SnapshotFile(file, idField, options.checkKey)
  const low = new Low<SnapshotDoc | null>(snapshot, null)
  await low.read()
  // Read now: a seeded file (below) is written, not read, and so never counts as trusted.
  const stamped = snapshot.trusted
  // A newer release's file is refused before anything is replayed, migrated or written.
  const newer = low.data === null ? undefined : findVersionProblem(low.data.format, migrations)
  if (newer !== undefined) throw new StoreLoadError(`${file}: ${newer}`)
  const journals = await io(path.dirname(file), 'cannot list the directory', () => listJournals(file))
  const loaded = low.data ?? await seedFile(options, low, journals)
  low.data = null

  const state = new MemoryState(loaded, idField)
  let seq = loaded.seq
  let replayed = false
  // Journals older than the snapshot were superseded by it (a crash came before their removal).
  const live = journals.filter(generation => generation >= loaded.generation)
  for (const generation of live) {
    const { entries, tornBytes } = await readJournal(journalPath(file, generation), idField)
    replayed ||= entries.length > 0 || tornBytes > 0
    for (const entry of entries) {
      // Lines pending when a snapshot was cut are in both; apply each commit once.
      if (entry.seq <= seq) continue
      state.apply(entry.ops)
      seq = entry.seq
    }
  }
  // An older format is brought forward in memory, and checked as such, before anything is written.
  const recovered = state.view()
  let migrated: Db
  try {
    migrated = migrateDb(recovered, migrations)
    // A file this release wrote from a checked state, byte for byte as it left it, with nothing
    // replayed on top, needs no second check (the large cost of starting on a large file).
    const trusted = stamped && !replayed && migrated === recovered
    if (!trusted) options.check?.(migrated)
  } catch (err) {
    throw new StoreLoadError(`${file}: ${(err as Error).message}`, { cause: err })
  }

  // Loaded: from here on the files may change. A replayed journal (maybe with a torn last line)
  // is folded into a new snapshot generation, which also truncates the torn line away.
  let generation = loaded.generation
  const writeSnapshot = async (): Promise<void> => {
    generation = Math.max(generation, ...live) + 1
    const { format, fixture, collections, singletons } = state.view()
    low.data = { format, fixture, generation, seq, collections, singletons }
    await low.write()
    low.data = null
  }
  if (replayed) await io(file, 'cannot write the recovery snapshot', writeSnapshot)
  if (migrated !== recovered) {
    // The file as the older release left it (its journal folded in just above) stays beside the
    // migrated one, for going back to that release. Each step is atomic: a crash leaves the old
    // file, which the next start migrates again.
    const backup = `${file}.v${String(versionOf(recovered.format))}.bak`
    await io(backup, 'cannot keep a copy before migrating', () => keepBackup(file, backup))
    state.load(migrated)
    await io(file, 'cannot write the migrated data file', writeSnapshot)
  }
  for (const old of journals) {
    if (old !== generation) await io(journalPath(file, old), 'cannot remove a replayed journal', () => fs.rm(journalPath(file, old), { force: true }))
  }
  await io(`${file}.tmp`, 'cannot remove a leftover temporary file', () => fs.rm(`${file}.tmp`, { force: true }))
  const journal = await io(journalPath(file, generation), 'cannot open the journal', () => JournalFile.open(file, generation))
  const writer = new DurableWriter({ file, state, low, snapshot, journal, seq, snapshotSeq: seq, compactBytes: options.compactBytes, releaseLock })
  return { state, writer }
}

/** No data file: the seed becomes snapshot generation 1, written durably before anything else. */
async function seedFile (options: StoreOptions & { file: string }, low: Low<SnapshotDoc | null>, journals: number[]): Promise<SnapshotDoc> {
  if (journals.length > 0) {
    // We always write the snapshot before any journal, so these belong to some other data.
    const names = journals.map(generation => path.basename(journalPath(options.file, generation))).join(', ')
    throw new StoreLoadError(`${options.file}: missing, but journal files exist beside it (${names}); restore the data file or remove them`)
  }
  const db = options.seed()
  const problem = findDbProblem(db, options.idField) ?? findNotCurrentProblem(db.format, options.migrations ?? [])
  if (problem !== undefined) throw new Error(`seed: ${problem}`)
  const doc: SnapshotDoc = { format: db.format, fixture: db.fixture, generation: 1, seq: 0, collections: db.collections, singletons: db.singletons }
  low.data = doc
  await io(options.file, 'cannot create the data file', () => low.write())
  return doc
}

/** Runs a start-up file operation; a system error (a full or read-only disk, a path through a
 *  regular file) becomes a StoreLoadError naming the file, which the CLI prints as one line. */
async function io<T> (file: string, what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    const systemError = typeof (err as NodeJS.ErrnoException).code === 'string' || err instanceof AggregateError
    if (err instanceof StoreLoadError || !systemError) throw err
    throw new StoreLoadError(`${file}: ${what} (${(err as Error).message})`, { cause: err })
  }
}

async function makeDir (dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true })
  } catch (err) {
    // Node's recursive mkdir says ENOENT on a read-only file system; a plain mkdir of the
    // directory tells the real reason (EROFS) when its parent exists.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await fs.mkdir(dir)
    throw err
  }
}
