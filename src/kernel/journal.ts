// The append-only journal: one JSON line per commit, `{"seq":12,"ops":[...]}`, in files named
// `<file>.journal.<generation>`. A generation starts when a snapshot is cut (see durable-writer.ts).
import fs from 'node:fs/promises'
import path from 'node:path'
import { PRIVATE_FILE_MODE, syncDir, syncFile, truncateFile, writeAll } from './durable-fs.ts'
import { findOpsProblem } from './find-db-problem.ts'
import { StoreLoadError } from './store-load-error.ts'
import type { Op } from './store-types.ts'

export interface JournalEntry {
  seq: number
  ops: Op[]
}

export function journalPath (file: string, generation: number): string {
  return `${file}.journal.${generation}`
}

/** The generations of the journal files beside `file`, ascending. */
export async function listJournals (file: string): Promise<number[]> {
  const prefix = `${path.basename(file)}.journal.`
  const names = await fs.readdir(path.dirname(file))
  return names
    .filter(name => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map(name => Number(name.slice(prefix.length)))
    .sort((a, b) => a - b)
}

export class JournalFile {
  readonly path: string
  readonly generation: number
  /** bytes in the file, compared with the snapshot size to decide when to compact */
  bytes: number
  readonly #handle: fs.FileHandle
  #closed = false

  private constructor (file: string, generation: number, handle: fs.FileHandle, bytes: number) {
    this.path = journalPath(file, generation)
    this.generation = generation
    this.#handle = handle
    this.bytes = bytes
  }

  /** Opens (creating if needed) the journal of a generation for appending. */
  static async open (file: string, generation: number): Promise<JournalFile> {
    const handle = await fs.open(journalPath(file, generation), 'a', PRIVATE_FILE_MODE)
    try {
      const { size } = await handle.stat()
      // A line fsynced into a file whose directory entry is not durable is lost with the file.
      await syncDir(path.dirname(file))
      return new JournalFile(file, generation, handle, size)
    } catch (err) {
      await handle.close()
      throw err
    }
  }

  /** Appends already-formatted lines and returns once they are on stable storage. fdatasync is
   *  enough for an append: it flushes the file size with the data, skipping only timestamps. */
  async append (buffer: Buffer): Promise<void> {
    await writeAll(this.#handle, buffer, this.path)
    await syncFile(this.#handle, this.path, true)
    this.bytes += buffer.length
  }

  /** After a failed append: cuts the file back to its last durable length, so lines that were
   *  (maybe partly) written but not acknowledged cannot be replayed after a restart. Once this
   *  resolves the journal holds exactly the acknowledged lines; if it throws, it may hold more. */
  async truncateToDurable (): Promise<void> {
    await truncateFile(this.#handle, this.path, this.bytes)
    await syncFile(this.#handle, this.path, true)
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#handle.close()
  }
}

/** Reads a journal. A torn last line (a crash during an unacknowledged write: no final newline,
 *  or an unparseable final line) is reported in `tornBytes` and skipped; a bad line anywhere
 *  else cannot come from a crash, so it is corruption and raises a StoreLoadError. */
export async function readJournal (file: string, idField: (collection: string) => string): Promise<{ entries: JournalEntry[], tornBytes: number }> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    throw new StoreLoadError(`${file}: cannot read (${(err as Error).message})`, { cause: err })
  }
  const lines = text.split('\n')
  // After the last newline: '' when the file ends cleanly, else a partially written line.
  const tail = lines.pop() ?? ''
  let tornBytes = Buffer.byteLength(tail)
  const entries: JournalEntry[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const problem = findEntryProblem(line, idField, entries.at(-1)?.seq ?? 0)
    if (typeof problem !== 'string') {
      entries.push(problem)
      continue
    }
    if (i === lines.length - 1 && tornBytes === 0) {
      tornBytes = Buffer.byteLength(line) + 1
      break
    }
    throw new StoreLoadError(`${file}: line ${i + 1} is corrupt (${problem}); only the last line may be torn by a crash`)
  }
  return { entries, tornBytes }
}

function findEntryProblem (line: string, idField: (collection: string) => string, previousSeq: number): JournalEntry | string {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return `not valid JSON: ${(err as Error).message}`
  }
  if (typeof value !== 'object' || value === null) return 'not a JSON object'
  const { seq, ops } = value as Record<string, unknown>
  if (!Number.isSafeInteger(seq) || (seq as number) <= previousSeq) return `"seq" must be an integer above ${previousSeq}`
  const problem = findOpsProblem(ops, idField)
  if (problem !== undefined) return problem
  return { seq: seq as number, ops: ops as Op[] }
}
