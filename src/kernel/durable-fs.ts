// The two filesystem primitives durability rests on.
import fs from 'node:fs/promises'

/** Every file of the store (data, journal, snapshots, lock) is the owner's alone: it holds password
 *  hashes and SRT passphrases. */
export const PRIVATE_FILE_MODE = 0o600

/** Writes the whole buffer: a single write(2) may legally write less than asked. */
export async function writeAll (handle: fs.FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset)
    offset += bytesWritten
  }
}

/** fsyncs a directory so that a file created or renamed in it survives a power loss: fsync on
 *  the file itself makes its bytes durable, not the directory entry that names it. */
export async function syncDir (dir: string): Promise<void> {
  // Windows cannot open a directory for reading; NTFS journals renames itself.
  if (process.platform === 'win32') return
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
