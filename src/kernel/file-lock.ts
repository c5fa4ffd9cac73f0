// An exclusive lock on a data file: `<file>.lock` holds the pid of its owner, so two emulators
// (or two stores in one process) never interleave writes to the same journal by accident.
import fs from 'node:fs/promises'
import path from 'node:path'
import { StoreLoadError } from './store-load-error.ts'
import { PRIVATE_FILE_MODE } from './durable-fs.ts'

// Locks held by this process. A lock naming our own pid but absent from here was left by an
// earlier process that had the same pid, as happens to pid 1 in a restarted container.
const held = new Set<string>()
let counter = 0

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readOwner (lock: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await fs.readFile(lock, 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
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
  try {
    await fs.writeFile(mine, `${process.pid}\n`, { flag: 'w', mode: PRIVATE_FILE_MODE })
  } catch (err) {
    throw new StoreLoadError(`${lock}: cannot create the lock file (${(err as Error).message})`, { cause: err })
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.link(mine, lock)
        held.add(key)
        return async () => {
          held.delete(key)
          // Only remove the lock if it is still ours (it may have been taken over by hand).
          if (await readOwner(lock) === process.pid) await fs.rm(lock, { force: true })
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreLoadError(`${lock}: cannot create the lock file (${(err as Error).message})`, { cause: err })
      }
      const owner = await readOwner(lock)
      const live = owner === process.pid ? held.has(key) : owner !== undefined && isAlive(owner)
      if (live) {
        throw new StoreLoadError(`${file}: in use by process ${owner} (lock file ${lock}); stop it, or remove the lock file if that process is not an emulator`)
      }
      // approximation: taking over a stale lock is racy if two processes do it at the same
      // instant; good enough for a dead emulator's lock, which is the case this handles.
      await fs.rm(lock, { force: true })
    }
    throw new StoreLoadError(`${lock}: could not take the lock (other processes keep taking it)`)
  } finally {
    await fs.rm(mine, { force: true })
  }
}
