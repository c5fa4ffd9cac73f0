// The write path of the durable store (design.md, "The write path").
//
// Each commit is applied to memory, given the next sequence number and queued as one journal line.
// One loop drains the queue: every line queued while a write+fdatasync was in flight goes into
// the next single write+fdatasync (group commit), and each promise resolves after the sync that
// covers it. When a write or sync fails (a full or read-only disk), the failed batch and every
// commit applied after it are undone in memory, newest first, and rejected with a
// StoreUnavailableError; the journal is cut back to its acknowledged lines (or, if that fails too,
// superseded by a snapshot before anything more is acknowledged). So a write that did not become
// durable leaves no trace, and the store writes again as soon as the disk does. Commits stay
// applied before their sync, so rules checked by later writes see them (and group commit keeps
// its throughput); a later write applied on top of a failed one is undone with it. When the journal outgrows the snapshot, a new journal generation is opened and the
// state at that instant is written as snapshot `generation` in the background while commits keep
// going to the new journal. Recovery (open-durable.ts) loads the snapshot and replays journals of
// its generation or newer, skipping lines whose seq the snapshot already includes. So at any crash
// instant: before the snapshot rename, the old snapshot + old journal + new journal hold
// everything; after it, the new snapshot + new journal do, and the stale journal is ignored.
import fs from 'node:fs/promises'
import type { Low } from 'lowdb'
import { JournalFile } from './journal.ts'
import type { MemoryState, Undo } from './memory-state.ts'
import type { SnapshotDoc, SnapshotFile } from './snapshot-file.ts'
import type { Durability } from './state-store.ts'
import { StoreUnavailableError } from './store-unavailable-error.ts'
import type { Op } from './store-types.ts'

interface Pending {
  /** the seq this change took (a snapshot barrier takes one too) */
  seq: number
  /** what it changed in memory, to undo it if it cannot be made durable */
  undo: Undo[]
  resolve: () => void
  reject: (err: unknown) => void
}
type Entry = Pending & ({ kind: 'line', text: string } | { kind: 'snapshot' })

export interface WriterInit {
  file: string
  state: MemoryState
  low: Low<SnapshotDoc | null>
  snapshot: SnapshotFile
  journal: JournalFile
  /** seq of the last commit applied to `state` (and included in snapshot or journal) */
  seq: number
  /** seq included in the snapshot file as it is on disk */
  snapshotSeq: number
  compactBytes: number | undefined
  releaseLock: () => Promise<void>
}

const MIN_COMPACT_BYTES = 1 << 20

export class DurableWriter implements Durability {
  readonly #init: WriterInit
  #journal: JournalFile
  // Journals made redundant by a snapshot being written; deleted once it is durable.
  #retired: JournalFile[] = []
  #seq: number
  #snapshotSeq: number
  #queue: Entry[] = []
  #running = false
  #draining: Promise<void> = Promise.resolve()
  #compaction: Promise<void> | undefined
  // The current journal may end in lines that were not acknowledged (cutting them off failed):
  // the next snapshot starts a new generation so that this journal is never replayed.
  #journalDirty = false
  // Nothing more is acknowledged until a snapshot is durable: a journal on disk may hold lines
  // that were not acknowledged, or the snapshot file may hold a replace that was not.
  #needSnapshot = false
  #rollbacks = 0

  constructor (init: WriterInit) {
    this.#init = init
    this.#journal = init.journal
    this.#seq = init.seq
    this.#snapshotSeq = init.snapshotSeq
  }

  /** How many times memory was rolled back after a failed write (see Store.rollbacks). */
  get rollbacks (): number {
    return this.#rollbacks
  }

  commit (ops: readonly Op[], apply: (undo: Undo[]) => void): Promise<void> {
    const seq = this.#seq + 1
    let text: string
    try {
      text = JSON.stringify({ seq, ops }) + '\n'
    } catch (err) {
      return Promise.reject(new Error(`invalid commit: not serializable as JSON (${(err as Error).message})`, { cause: err }))
    }
    const undo: Undo[] = []
    apply(undo)
    this.#seq = seq
    return this.#enqueue({ kind: 'line', text, seq, undo })
  }

  /** A whole-state swap is written as a snapshot of its own, not as a (huge) journal line.
   *  Commits made after it wait behind it, so none is acknowledged on top of a reset that a
   *  crash could still undo. */
  replace (apply: (undo: Undo[]) => void): Promise<void> {
    const undo: Undo[] = []
    apply(undo)
    this.#seq++
    return this.#enqueue({ kind: 'snapshot', seq: this.#seq, undo })
  }

  async close (): Promise<void> {
    // The store refuses new writes once closing, so the queue only drains from here.
    while (this.#running) await this.#draining
    await this.#compaction
    const journals = [this.#journal, ...this.#retired]
    try {
      // Leave the snapshot complete so the file a user opens after a clean stop is current,
      // and remove the journal it makes redundant (open-durable.ts recreates it).
      if (this.#seq !== this.#snapshotSeq || this.#needSnapshot) {
        this.#retired.push(this.#journal)
        const doc = this.#cut(this.#journal.generation + 1)
        await this.#persist(doc)
        await this.#dropStale(doc.generation)
      } else {
        await this.#journal.close()
        await fs.rm(this.#journal.path, { force: true })
      }
    } finally {
      for (const journal of journals) await journal.close()
      await this.#init.releaseLock()
    }
  }

  #enqueue (entry: { kind: 'line', text: string, seq: number, undo: Undo[] } | { kind: 'snapshot', seq: number, undo: Undo[] }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ...entry, resolve, reject })
      if (!this.#running) this.#draining = this.#drain()
    })
  }

  // Never rejects: every failure is delivered to the promises of the commits it concerns.
  async #drain (): Promise<void> {
    this.#running = true
    try {
      // The emptiness check and `finally` run in one synchronous stretch (no await between).
      while (this.#queue.length > 0) await this.#step()
    } catch (err) {
      // A bug rather than an I/O error (those are handled below); still, fail loudly, not hang.
      this.#needSnapshot = true
      this.#journalDirty = true
      this.#rollBack([], err)
    } finally {
      // Cleared in the same tick as the loop saw an empty queue: a commit queued after this
      // point starts a new drain, one queued before it was taken by the loop.
      this.#running = false
    }
  }

  /** Writes everything queued up to the next snapshot barrier as one write+fdatasync. */
  async #step (): Promise<void> {
    const head = this.#queue[0] as Entry
    if (this.#needSnapshot || head.kind === 'snapshot') {
      await this.#snapshotNow(head.kind === 'snapshot' ? this.#queue.shift() : undefined)
      return
    }
    const end = this.#queue.findIndex(entry => entry.kind === 'snapshot')
    const batch = this.#queue.splice(0, end === -1 ? this.#queue.length : end)
    try {
      await this.#journal.append(Buffer.from(batch.map(entry => entry.kind === 'line' ? entry.text : '').join('')))
    } catch (err) {
      const undone = this.#undo(batch)
      // Answered only once the failed lines are cut off: a crash right after a 503 must not
      // replay a write that was reported as not made.
      try {
        await this.#journal.truncateToDurable()
      } catch (truncateErr) {
        this.#journalDirty = true
        this.#needSnapshot = true
        process.emitWarning(`${this.#journal.path}: could not cut off a failed write (${(truncateErr as Error).message}); nothing more is acknowledged until a snapshot is written`)
      }
      this.#reject(undone, err)
      return
    }
    for (const entry of batch) entry.resolve()
    if (this.#compaction === undefined && this.#journal.bytes > this.#threshold()) await this.#compactInBackground()
  }

  /** Undoes, newest first, `failed` (the oldest changes not durable) and everything queued after
   *  them: each was applied on top of a state that could not be made durable. Returns them all. */
  #undo (failed: Entry[]): Entry[] {
    const undone = [...failed, ...this.#queue.splice(0)]
    if (undone.length === 0) return undone
    this.#init.state.revert(undone.flatMap(entry => entry.undo))
    this.#seq = (undone[0] as Entry).seq - 1
    this.#rollbacks++
    return undone
  }

  #reject (undone: Entry[], err: unknown): void {
    const reason = (err as NodeJS.ErrnoException | undefined)?.code ?? (err as Error | undefined)?.message ?? String(err)
    const error = new StoreUnavailableError(`the data file cannot be written (${reason}); the change was not made`, err)
    for (const entry of undone) entry.reject(error)
  }

  #rollBack (failed: Entry[], err: unknown): void {
    this.#reject(this.#undo(failed), err)
  }

  #threshold (): number {
    return this.#init.compactBytes ?? Math.max(MIN_COMPACT_BYTES, this.#init.snapshot.bytes)
  }

  /** A snapshot that everything queued waits for: for replace, and to recover from a failure. */
  async #snapshotNow (barrier: Entry | undefined): Promise<void> {
    try {
      await this.#compaction
      // A fresh journal is needed only when this one may hold unacknowledged lines (or to retire
      // a non-empty one); retrying on a full disk must not open a new file per attempt.
      if (this.#journalDirty || this.#journal.bytes > 0) {
        await this.#rotate()
        this.#journalDirty = false
      }
      const doc = this.#cut(this.#journal.generation)
      await this.#persist(doc)
      this.#needSnapshot = false
      // Acknowledged as soon as the snapshot is durable; removing old journals is housekeeping.
      barrier?.resolve()
      await this.#dropStale(doc.generation)
    } catch (err) {
      // The rename may have put a replace that is now undone into the data file: overwrite it
      // with a snapshot of memory before acknowledging anything else.
      if (this.#init.snapshot.renamedUnsynced) this.#needSnapshot = true
      this.#rollBack(barrier === undefined ? [] : [barrier], err)
    }
  }

  async #compactInBackground (): Promise<void> {
    try {
      await this.#rotate()
    } catch (err) {
      // Nothing is lost: the current journal is intact and keeps taking commits.
      process.emitWarning(`${this.#init.file}: could not start a new journal generation; compaction retried later (${(err as Error).message})`)
      return
    }
    const doc = this.#cut(this.#journal.generation)
    this.#compaction = this.#persist(doc).then(() => this.#dropStale(doc.generation), (err: unknown) => {
      // Nothing is lost (the journals still hold every commit) and commits go on; the next
      // compaction (after another threshold of journal) tries again.
      process.emitWarning(`${this.#init.file}: snapshot failed; compaction retried later (${(err as Error).message})`)
    }).finally(() => { this.#compaction = undefined })
  }

  /** Starts the next journal generation. Called only between journal writes, so every line of
   *  the old journal is in a cut taken after it. */
  async #rotate (): Promise<void> {
    const journal = await JournalFile.open(this.#init.file, this.#journal.generation + 1)
    this.#retired.push(this.#journal)
    this.#journal = journal
  }

  /** The acknowledged state at this instant: memory without the commits still queued (their
   *  journal write may yet fail, and a snapshot must not make them durable behind their back). */
  #cut (generation: number): SnapshotDoc {
    const queued = this.#queue
    const { format, fixture, collections, singletons } = this.#init.state.view(queued.flatMap(entry => entry.undo))
    const seq = queued.length > 0 ? (queued[0] as Entry).seq - 1 : this.#seq
    return { format, fixture, generation, seq, collections, singletons }
  }

  async #persist (doc: SnapshotDoc): Promise<void> {
    this.#init.low.data = doc
    try {
      await this.#init.low.write()
    } finally {
      this.#init.low.data = null // do not keep deleted items alive until the next snapshot
    }
    this.#snapshotSeq = doc.seq
  }

  /** Removes the journals a durable snapshot of `generation` made redundant. Never throws. */
  async #dropStale (generation: number): Promise<void> {
    const stale = this.#retired.filter(journal => journal.generation < generation)
    this.#retired = this.#retired.filter(journal => !stale.includes(journal))
    for (const journal of stale) {
      try {
        await journal.close()
        await fs.rm(journal.path, { force: true })
      } catch (err) {
        // The snapshot is durable, so this is not a failed write: recovery ignores journals older
        // than the snapshot and removes them on the next start.
        process.emitWarning(`${journal.path}: could not remove a journal the snapshot made redundant (${(err as Error).message})`)
      }
    }
  }
}
