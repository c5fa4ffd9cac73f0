// The filesystem primitives durability rests on. Every write and sync of the durable store goes
// through here, so tests can fail them (a full or read-only disk) or hold a sync open and check
// that nothing is acknowledged before it completes: see `setFaultPlan`.
import fs from 'node:fs/promises'

/** Every file of the store (data, journal, snapshots, lock) is the owner's alone: it holds password
 *  hashes and SRT passphrases. */
export const PRIVATE_FILE_MODE = 0o600

/** One write or sync about to happen. `path` is the file (for 'dirsync', the directory). */
export interface FsOp {
  kind: 'write' | 'datasync' | 'fsync' | 'dirsync' | 'truncate'
  path: string
}

/** A test's hook into the durable store's I/O: called before each write and sync, it may throw
 *  (the operation then fails with that error, as from the OS) or return a promise the operation
 *  waits for (a sync the test releases). */
export interface FaultPlan {
  before: (op: FsOp) => void | Promise<void>
}

let plan: FaultPlan | undefined

/** Installs (or with undefined removes) the fault plan of this process. For tests only. */
export function setFaultPlan (next: FaultPlan | undefined): void {
  plan = next
}

/** An error shaped like the one Node raises for a failed system call. */
export function fsError (code: 'ENOSPC' | 'EIO' | 'EROFS', syscall: string, errPath?: string): NodeJS.ErrnoException {
  const text = { ENOSPC: 'no space left on device', EIO: 'i/o error', EROFS: 'read-only file system' }[code]
  const errno = { ENOSPC: -28, EIO: -5, EROFS: -30 }[code]
  const err: NodeJS.ErrnoException = new Error(`${code}: ${text}, ${syscall}${errPath === undefined ? '' : ` '${errPath}'`}`)
  err.code = code
  err.errno = errno
  err.syscall = syscall
  if (errPath !== undefined) err.path = errPath
  return err
}

async function before (op: FsOp): Promise<void> {
  if (plan !== undefined) await plan.before(op)
}

/** Writes the whole buffer: a single write(2) may legally write less than asked. */
export async function writeAll (handle: fs.FileHandle, buffer: Buffer, filePath: string): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    await before({ kind: 'write', path: filePath })
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset)
    offset += bytesWritten
  }
}

/** fdatasync (`data`: enough for an append, it flushes the size with the bytes) or fsync. */
export async function syncFile (handle: fs.FileHandle, filePath: string, data: boolean): Promise<void> {
  await before({ kind: data ? 'datasync' : 'fsync', path: filePath })
  await (data ? handle.datasync() : handle.sync())
}

/** Cuts a file back to `length` bytes. */
export async function truncateFile (handle: fs.FileHandle, filePath: string, length: number): Promise<void> {
  await before({ kind: 'truncate', path: filePath })
  await handle.truncate(length)
}

/** fsyncs a directory so that a file created or renamed in it survives a power loss: fsync on
 *  the file itself makes its bytes durable, not the directory entry that names it. */
export async function syncDir (dir: string): Promise<void> {
  // Windows cannot open a directory for reading; NTFS journals renames itself.
  if (process.platform === 'win32') return
  await before({ kind: 'dirsync', path: dir })
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
