// The write path of the durable store (design.md, "The write path").
//
// Each commit is applied to memory, given the next sequence number and queued as one journal line.
// One loop drains the queue: every line queued while a write+fdatasync was in flight goes into
// the next single write+fdatasync (group commit), and each promise resolves after the sync that
// covers it. When the journal outgrows the snapshot, a new journal generation is opened and the
// state at that instant is written as snapshot `generation` in the background while commits keep
// going to the new journal. Recovery (open-durable.ts) loads the snapshot and replays journals of
// its generation or newer, skipping lines whose seq the snapshot already includes. So at any crash
// instant: before the snapshot rename, the old snapshot + old journal + new journal hold
// everything; after it, the new snapshot + new journal do, and the stale journal is ignored.
import fs from 'node:fs/promises'
import type { Low } from 'lowdb'
import { JournalFile } from './journal.ts'
import type { MemoryState } from './memory-state.ts'
import type { SnapshotDoc, SnapshotFile } from './snapshot-file.ts'
import type { Durability } from './state-store.ts'
import type { Op } from './store-types.ts'

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
}
type Entry = Waiter & ({ kind: 'line', text: string } | { kind: 'snapshot' })

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
  // Set after a failed write: the journal may end in a partial line, or memory holds changes no
  // file has. Nothing more is acknowledged until a snapshot of memory is durable again.
  #needSnapshot = false

  constructor (init: WriterInit) {
    this.#init = init
    this.#journal = init.journal
    this.#seq = init.seq
    this.#snapshotSeq = init.snapshotSeq
  }

  commit (ops: readonly Op[], apply: () => void): Promise<void> {
    const seq = this.#seq + 1
    let text: string
    try {
      text = JSON.stringify({ seq, ops }) + '\n'
    } catch (err) {
      return Promise.reject(new Error(`invalid commit: not serializable as JSON (${(err as Error).message})`, { cause: err }))
    }
    apply()
    this.#seq = seq
    return this.#enqueue({ kind: 'line', text })
  }

  /** A whole-state swap is written as a snapshot of its own, not as a (huge) journal line.
   *  Commits made after it wait behind it, so none is acknowledged on top of a reset that a
   *  crash could still undo. */
  replace (apply: () => void): Promise<void> {
    apply()
    this.#seq++
    return this.#enqueue({ kind: 'snapshot' })
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
        await this.#persist(this.#cut(this.#journal.generation + 1))
      } else {
        await this.#journal.close()
        await fs.rm(this.#journal.path, { force: true })
      }
    } finally {
      for (const journal of journals) await journal.close()
      await this.#init.releaseLock()
    }
  }

  #enqueue (entry: { kind: 'line', text: string } | { kind: 'snapshot' }): Promise<void> {
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
      for (const entry of this.#queue.splice(0)) entry.reject(err)
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
      this.#needSnapshot = true
      for (const entry of batch) entry.reject(err)
      return
    }
    for (const entry of batch) entry.resolve()
    if (this.#compaction === undefined && this.#journal.bytes > this.#threshold()) await this.#compactInBackground()
  }

  #threshold (): number {
    return this.#init.compactBytes ?? Math.max(MIN_COMPACT_BYTES, this.#init.snapshot.bytes)
  }

  /** A snapshot that everything queued waits for: for replace, and to recover from a failure. */
  async #snapshotNow (barrier: Entry | undefined): Promise<void> {
    try {
      await this.#compaction
      await this.#persist(await this.#rotate())
      this.#needSnapshot = false
      barrier?.resolve()
    } catch (err) {
      this.#needSnapshot = true
      // All of these were applied to memory on top of a state that could not be made durable.
      for (const entry of [...(barrier === undefined ? [] : [barrier]), ...this.#queue.splice(0)]) entry.reject(err)
    }
  }

  async #compactInBackground (): Promise<void> {
    let doc: SnapshotDoc
    try {
      doc = await this.#rotate()
    } catch (err) {
      this.#needSnapshot = true
      process.emitWarning(`${this.#init.file}: could not start a new journal generation; retrying before the next commit (${(err as Error).message})`)
      return
    }
    this.#compaction = this.#persist(doc).catch((err: unknown) => {
      // Nothing is lost (the journals still hold every commit), but the failure must show: the
      // next commit waits for a retry and is rejected if that fails too.
      this.#needSnapshot = true
      process.emitWarning(`${this.#init.file}: snapshot failed; retrying before the next commit (${(err as Error).message})`)
    }).finally(() => { this.#compaction = undefined })
  }

  /** Starts the next journal generation and returns the state at this instant as its snapshot.
   *  Called only between journal writes, so every line of the old journal is in the cut. */
  async #rotate (): Promise<SnapshotDoc> {
    const journal = await JournalFile.open(this.#init.file, this.#journal.generation + 1)
    this.#retired.push(this.#journal)
    this.#journal = journal
    return this.#cut(journal.generation)
  }

  #cut (generation: number): SnapshotDoc {
    const { format, fixture, collections, singletons } = this.#init.state.view()
    return { format, fixture, generation, seq: this.#seq, collections, singletons }
  }

  async #persist (doc: SnapshotDoc): Promise<void> {
    this.#init.low.data = doc
    try {
      await this.#init.low.write()
    } finally {
      this.#init.low.data = null // do not keep deleted items alive until the next snapshot
    }
    this.#snapshotSeq = doc.seq
    const stale = this.#retired.filter(journal => journal.generation < doc.generation)
    this.#retired = this.#retired.filter(journal => !stale.includes(journal))
    for (const journal of stale) {
      await journal.close()
      await fs.rm(journal.path, { force: true })
    }
  }
}
