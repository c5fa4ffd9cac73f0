import fs from 'node:fs/promises'
import path from 'node:path'
import type { Db } from '../kernel/store.ts'
import type { RuntimeSnapshot } from '../runtime/runtime-types.ts'

/** The emulator's whole state at one moment, sessions apart. */
export interface DeviceSnapshot {
  name: string
  /** Device time it was taken (ISO 8601). */
  created: string
  db: Db
  runtime: RuntimeSnapshot
  /** NICs whose link was down, with the speed each comes back at. */
  nicsDown: Record<string, number>
}

export const SNAPSHOT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$'

/**
 * Where snapshots are kept: next to the data file, one file each in `<data>.snapshots/`, so they
 * survive a restart as the data does; in memory when the store is. The files hold what the data
 * file holds (password hashes, SRT passphrases), so they are the owner's alone.
 */
export class SnapshotShelf {
  private readonly memory = new Map<string, DeviceSnapshot>()
  private readonly dir: string | undefined

  constructor (dataFile: string | undefined) {
    this.dir = dataFile === undefined ? undefined : `${dataFile}.snapshots`
  }

  async list (): Promise<DeviceSnapshot[]> {
    if (this.dir === undefined) return [...this.memory.values()].sort((a, b) => a.name.localeCompare(b.name))
    let names: string[]
    try {
      names = await fs.readdir(this.dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const found: DeviceSnapshot[] = []
    for (const file of names.filter(n => n.endsWith('.json')).sort()) {
      const snapshot = await this.get(file.slice(0, -'.json'.length))
      if (snapshot !== undefined) found.push(snapshot)
    }
    return found
  }

  async get (name: string): Promise<DeviceSnapshot | undefined> {
    if (!new RegExp(SNAPSHOT_NAME_PATTERN).test(name)) return undefined
    if (this.dir === undefined) return this.memory.get(name)
    try {
      return JSON.parse(await fs.readFile(this.fileOf(name), 'utf8')) as DeviceSnapshot
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  /** Keeps a snapshot, replacing one of the same name; on disk it is complete or absent (written aside, then renamed). */
  async put (snapshot: DeviceSnapshot): Promise<void> {
    if (this.dir === undefined) {
      this.memory.set(snapshot.name, structuredClone(snapshot))
      return
    }
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    const target = this.fileOf(snapshot.name)
    const temporary = `${target}.${process.pid}.tmp`
    const handle = await fs.open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(JSON.stringify(snapshot))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temporary, target)
    await this.syncDir()
  }

  /** Removes a snapshot; false when there was none. */
  async delete (name: string): Promise<boolean> {
    if (this.dir === undefined) return this.memory.delete(name)
    try {
      await fs.rm(this.fileOf(name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw error
    }
    await this.syncDir()
    return true
  }

  /** The rename (or removal) survives a power loss once the directory itself is synced. */
  private async syncDir (): Promise<void> {
    // Windows cannot open a directory for reading; NTFS journals renames itself.
    if (this.dir === undefined || process.platform === 'win32') return
    const handle = await fs.open(this.dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }

  private fileOf (name: string): string {
    return path.join(this.dir ?? '', `${name}.json`)
  }
}
