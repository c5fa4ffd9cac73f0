// The copy of a data file kept before a migration rewrites it (`<file>.v<N>.bak`).
import fs from 'node:fs/promises'
import path from 'node:path'
import { PRIVATE_FILE_MODE, syncDir } from './durable-fs.ts'

/** Copies `file` to `backup` byte for byte, 0600 and durably (temp file, fsync, rename, directory
 *  fsync), replacing an older backup: after a crash there is the whole copy or the one before. */
export async function keepBackup (file: string, backup: string): Promise<void> {
  const temp = `${backup}.tmp`
  try {
    await fs.copyFile(file, temp)
    const handle = await fs.open(temp, 'r+')
    try {
      // copyFile gives the copy the original's mode; a file from before 0600 store files may be 0644.
      await handle.chmod(PRIVATE_FILE_MODE)
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(cleanup => { throw new AggregateError([err, cleanup], `${temp}: copy failed and the temp file could not be removed`) })
    throw err
  }
  await fs.rename(temp, backup)
  await syncDir(path.dirname(backup))
}
