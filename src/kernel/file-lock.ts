// An exclusive lock on a data file: `<file>.lock` holds the pid of its owner, so two emulators
// (or two stores in one process) never interleave writes to the same journal by accident.
import fs from 'node:fs/promises'
import path from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { PRIVATE_FILE_MODE, writeAll } from './durable-fs.ts'
import { StoreLoadError } from './store-load-error.ts'

// The lock files (`<path>:<inode>`) this process has linked or is about to link, until released.
// A lock naming our own pid but absent from here was left by an earlier process that had the same
// pid, as happens to pid 1 in a restarted container. By inode, not by path: two calls in this
// process racing for one lock must see each other's lock as live even before `link` returned.
const ours = new Set<string>()
let counter = 0

// A claim file older than this was left by a process that died while taking over a stale lock
// (a takeover lasts milliseconds).
const STALE_CLAIM_MS = 10_000
const ATTEMPTS = 20

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The lock file's pid and inode, read from one open file so they belong together. */
async function readLock (lock: string): Promise<{ pid: number | undefined, ino: number } | undefined> {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(lock, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const { ino } = await handle.stat()
    const pid = Number.parseInt(await handle.readFile('utf8'), 10)
    return { pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined, ino }
  } finally {
    await handle.close()
  }
}

/** Writes our pid to a private file, removed again if the write fails (a full disk); returns
 *  its inode. */
async function writePidFile (mine: string): Promise<number> {
  const handle = await fs.open(mine, 'wx', PRIVATE_FILE_MODE)
  try {
    await writeAll(handle, Buffer.from(`${process.pid}\n`), mine)
    const { ino } = await handle.stat()
    await handle.close()
    return ino
  } catch (err) {
    await handle.close().catch(() => { /* the write error is the one to report */ })
    await fs.rm(mine, { force: true })
    throw err
  }
}

/**
 * Removes the lock file only if it is still the stale one we judged (inode `staleIno`). Two
 * processes that both found the lock stale must not both remove "it": the second would remove the
 * first one's fresh lock and both would own the file. So only the holder of the claim (a hard link
 * `<lock>.claim` to the lock, created exclusively) may remove the lock, and only after checking
 * that what it linked is that stale inode; anyone else retries from the start.
 */
async function removeStale (lock: string, staleIno: number): Promise<void> {
  const claim = `${lock}.claim`
  try {
    await fs.link(lock, claim)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return // the lock went away meanwhile
    if (code !== 'EEXIST') throw err
    // Someone else is taking over; a claim left by a process that died doing so is removed.
    // approximation: removing an old claim is not itself guarded; it takes a crash during a takeover followed by two simultaneous starts [ours].
    const stat = await fs.stat(claim).catch(() => undefined)
    if (stat !== undefined && Date.now() - stat.ctimeMs > STALE_CLAIM_MS) await fs.rm(claim, { force: true })
    return
  }
  try {
    if ((await fs.stat(claim)).ino === staleIno) await fs.rm(lock, { force: true })
  } finally {
    await fs.rm(claim, { force: true })
  }
}

/** Takes the lock or throws a StoreLoadError naming the owner. Returns the release function. */
export async function acquireLock (file: string): Promise<() => Promise<void>> {
  const lock = `${file}.lock`
  const key = path.resolve(lock)
  const mine = `${lock}.${process.pid}.${counter++}`
  // The pid is written to a private file first and then hard-linked into place: link fails
  // with EEXIST like open(wx), but a lock never exists without its pid, so nobody can mistake a
  // lock being written for a stale empty one.
  let mineKey: string
  try {
    mineKey = `${key}:${await writePidFile(mine)}`
  } catch (err) {
    throw new StoreLoadError(`${lock}: cannot create the lock file (${(err as Error).message})`, { cause: err })
  }
  ours.add(mineKey)
  let won = false
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await fs.link(mine, lock)
        won = true
        return async () => {
          // Only remove the lock if it is still ours (it may have been taken over by hand).
          const current = await readLock(lock)
          if (current !== undefined && `${key}:${current.ino}` === mineKey) await fs.rm(lock, { force: true })
          ours.delete(mineKey)
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreLoadError(`${lock}: cannot create the lock file (${(err as Error).message})`, { cause: err })
      }
      const current = await readLock(lock)
      if (current === undefined) continue
      const owner = current.pid
      const live = owner === process.pid ? ours.has(`${key}:${current.ino}`) : owner !== undefined && isAlive(owner)
      if (live) {
        throw new StoreLoadError(`${file}: in use by process ${owner} (lock file ${lock}); stop it, or remove the lock file if that process is not an emulator`)
      }
      await removeStale(lock, current.ino)
      // Let a process that holds the claim finish before trying again.
      await nextTurn()
    }
    throw new StoreLoadError(`${lock}: could not take the lock (other processes keep taking it)`)
  } finally {
    if (!won) ours.delete(mineKey)
    await fs.rm(mine, { force: true })
  }
}
