// The lowdb adapter for the JSON snapshot: the file of record, pretty-printed for humans.
//
// Why not lowdb's JSONFile: it writes through steno, which renames a temp file into place but
// never fsyncs. After a power loss the renamed file can be empty or partial (delayed allocation)
// and the rename itself can be lost, so an acknowledged write would vanish. This adapter writes a
// temp file in the same directory (rename is atomic only within one filesystem), fsyncs it,
// renames it over the data file, then fsyncs the directory so the rename is durable too.
//
// With a check key (StoreOptions.checkKey) every snapshot ends with `"checked": "<key> <sha256>"`,
// the checksum of the file's bytes before that line; `trusted` tells the reader that the file it
// just read carries a matching stamp, so the full check of a large file can be skipped.
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Adapter } from 'lowdb'
import { PRIVATE_FILE_MODE, syncDir, syncFile, writeAll } from './durable-fs.ts'
import { findDbProblem } from './find-db-problem.ts'
import { StoreLoadError } from './store-load-error.ts'
import type { Db } from './store-types.ts'

/** The file's content: a Db plus the bookkeeping that ties it to the journal (see store.ts). */
export interface SnapshotDoc extends Db {
  /** the journal generation that continues this snapshot */
  generation: number
  /** the sequence number of the last commit included; replay skips journal lines up to it */
  seq: number
}

// Chunks of about this many characters are written one at a time so the event loop (and the
// commits waiting on it) runs between them while a large snapshot is written.
const CHUNK = 1 << 20

// The stamp: always the last member, written by `write` alone, so it is looked for in the tail.
const STAMP_KEY = 'checked'
const STAMP = /,\n {2}"checked": ("(?:[^"\\\n]|\\.)*")\n\}$/
const STAMP_TAIL = 1024

export class SnapshotFile implements Adapter<SnapshotDoc | null> {
  readonly file: string
  /** size of the file as last read or written; the journal is compacted relative to it */
  bytes = 0
  /** The last write renamed its file into place but could not sync the directory: the data file
   *  may or may not be the new one after a power loss. */
  renamedUnsynced = false
  /** The file last read carries a stamp of this store's check key over its exact bytes. */
  trusted = false
  readonly #idField: (collection: string) => string
  readonly #checkKey: string | undefined

  constructor (file: string, idField: (collection: string) => string, checkKey?: string) {
    this.file = file
    this.#idField = idField
    this.#checkKey = checkKey
  }

  /** null when there is no file; a StoreLoadError naming the file when it is not a valid Db. */
  async read (): Promise<SnapshotDoc | null> {
    this.trusted = false
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw new StoreLoadError(`${this.file}: cannot read (${(err as Error).message})`, { cause: err })
    }
    this.bytes = Buffer.byteLength(text)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      const message = (err as Error).message
      // V8 gives no position for a truncated document; the end of the text is where it broke.
      const where = /position \d+/.test(message) ? '' : ` at position ${text.length}`
      throw new StoreLoadError(`${this.file}: not valid JSON (${message}${where})`, { cause: err })
    }
    const problem = findDbProblem(value, this.#idField) ?? findBookkeepingProblem(value as Record<string, unknown>)
    if (problem !== undefined) throw new StoreLoadError(`${this.file}: ${problem}`)
    this.trusted = this.#checkKey !== undefined && this.#stampOf(text) === this.#checkKey
    // A hand-written file (or one from before the journal existed) starts at generation 0.
    const doc: Partial<SnapshotDoc> & Db & { [STAMP_KEY]?: unknown } = { ...value as Partial<SnapshotDoc> & Db }
    delete doc[STAMP_KEY]
    return { ...doc, generation: doc.generation ?? 0, seq: doc.seq ?? 0 }
  }

  /** The key of a stamp that matches the bytes before it, else undefined. */
  #stampOf (text: string): string | undefined {
    const tailAt = Math.max(0, text.length - STAMP_TAIL)
    const match = STAMP.exec(text.slice(tailAt))
    if (match === null) return undefined
    const stamp = JSON.parse(match[1] as string) as string
    const space = stamp.lastIndexOf(' ')
    const digest = createHash('sha256').update(text.slice(0, tailAt + match.index)).digest('hex')
    return space !== -1 && stamp.slice(space + 1) === digest ? stamp.slice(0, space) : undefined
  }

  async write (doc: SnapshotDoc | null): Promise<void> {
    if (doc === null) throw new Error('SnapshotFile: refusing to write an empty snapshot')
    const temp = `${this.file}.tmp`
    let bytes = 0
    // 0600: the snapshot holds password hashes and SRT passphrases.
    const handle = await fs.open(temp, 'w', PRIVATE_FILE_MODE)
    const hash = this.#checkKey === undefined ? undefined : createHash('sha256')
    const emit = async (text: string, hashed: boolean): Promise<void> => {
      const buffer = Buffer.from(text)
      if (hashed) hash?.update(buffer)
      await writeAll(handle, buffer, temp)
      bytes += buffer.length
    }
    try {
      let last: string | undefined
      for (const chunk of serializeSnapshot(doc)) {
        if (last !== undefined) await emit(last, true)
        last = chunk
      }
      if (hash === undefined) await emit(last as string, false)
      else {
        // The last chunk ends the document ("\n}"): the stamp goes in before it.
        await emit((last as string).slice(0, -2), true)
        await emit(`,\n  "${STAMP_KEY}": ${JSON.stringify(`${this.#checkKey as string} ${hash.digest('hex')}`)}\n}`, false)
      }
      await syncFile(handle, temp, false)
    } catch (err) {
      await handle.close().catch(() => { /* the write error below is the one to report */ })
      await fs.rm(temp, { force: true }).catch(cleanup => { throw new AggregateError([err, cleanup], `${temp}: write failed and the temp file could not be removed`) })
      throw err
    }
    await handle.close()
    await fs.rename(temp, this.file)
    this.renamedUnsynced = true
    await syncDir(path.dirname(this.file))
    this.renamedUnsynced = false
    this.bytes = bytes
  }
}

function findBookkeepingProblem (value: Record<string, unknown>): string | undefined {
  for (const key of ['generation', 'seq']) {
    const n = value[key]
    if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) return `"${key}" must be a non-negative integer`
  }
  return undefined
}

/** Yields exactly JSON.stringify(doc, null, 2), in chunks of about CHUNK characters, one item at
 *  a time, so no single synchronous step stringifies a 10,000-item collection. */
export function * serializeSnapshot (doc: SnapshotDoc): Generator<string> {
  const { collections, singletons, ...head } = doc
  let parts: string[] = []
  let size = 0
  const push = (text: string): boolean => {
    parts.push(text)
    size += text.length
    return size >= CHUNK
  }
  const flush = (): string => {
    const chunk = parts.join('')
    parts = []
    size = 0
    return chunk
  }
  push(JSON.stringify(head, null, 2).slice(0, -2)) // without the closing "\n}"
  push(',\n  "collections": ')
  const names = Object.keys(collections)
  if (names.length === 0) push('{}')
  for (let c = 0; c < names.length; c++) {
    const name = names[c] as string
    const items = collections[name] ?? []
    push(`${c === 0 ? '{\n' : ',\n'}    ${JSON.stringify(name)}: ${items.length === 0 ? '[]' : '['}`)
    for (let i = 0; i < items.length; i++) {
      if (push(`${i === 0 ? '\n' : ',\n'}      ${indent(JSON.stringify(items[i], null, 2), 6)}`)) yield flush()
    }
    if (items.length > 0) push('\n    ]')
    if (c === names.length - 1) push('\n  }')
  }
  push(`,\n  "singletons": ${indent(JSON.stringify(singletons, null, 2), 2)}\n}`)
  yield flush()
}

// JSON.stringify escapes newlines inside strings, so every raw newline is structure.
function indent (json: string, spaces: number): string {
  return json.replaceAll('\n', '\n' + ' '.repeat(spaces))
}
