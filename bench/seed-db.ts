// A large store for the bench, the soak and the crash test: N streams (each with its own output,
// since an output serves one stream) plus a pool of free outputs for streams created later.
//
// The items are not hand-written: one of each is created through the emulator's own API (in
// memory), so they have exactly the stored form the resources produce today; the rest are
// copies with new ids and names. The result is checked with checkDb before it is written.
import { randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { buildApp } from '../src/app.ts'
import { checkDb } from '../src/check-db.ts'
import type { Db, Item } from '../src/kernel/store.ts'

export interface SeedOptions {
  streams: number
  /** Outputs no stream uses yet, one per stream a client will create. */
  freeOutputs: number
  /** Fixture the rest of the device comes from (accounts, NICs, licence). */
  fixture?: string
}

export interface SeededStore {
  db: Db
  /** ids of the seeded streams, in order */
  streamIds: string[]
  freeOutputIds: string[]
  inputId: string
  transcoderId: string
}

/** Contract-valid bodies (kraken-api.md section 5) for the objects a stream needs. */
export const TEMPLATES = {
  transcoder: { name: 'bench 720p', format: 'h264', video_bitrate: 2000, width: 1280, height: 720 },
  input: { name: 'bench input', protocol: 'ts_udp', url: 'udp://239.10.0.1:5000' },
  output: { name: 'bench output', protocol: 'ts_udp', url: 'udp://239.20.0.1:6000' }
} as const

/** The body of a POST /apis/v2/streams that the emulator accepts. */
export function streamBody (name: string, seeded: Pick<SeededStore, 'inputId' | 'transcoderId'>, outputId: string, description = ''): Record<string, unknown> {
  return { name, mode: 'transcoder', input: seeded.inputId, transcoder: seeded.transcoderId, outputs: [outputId], description }
}

export async function seedStore (options: SeedOptions): Promise<SeededStore> {
  const app = await buildApp({ inMemory: true, fixture: options.fixture ?? 'empty', logLevel: 'silent', transitionMs: 0 })
  try {
    const cookie = `id=${app.kraken.sessions.create('haiadmin', 'Administrator').id}`
    const create = async (url: string, body: unknown): Promise<Item> => {
      const res = await app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
      if (res.statusCode !== 201) throw new Error(`seeding: POST ${url} answered ${res.statusCode} ${res.body}`)
      return res.json() as Item
    }
    const transcoder = await create('/apis/v2/transcoders', TEMPLATES.transcoder)
    const input = await create('/apis/v2/inputs', TEMPLATES.input)
    const output = await create('/apis/v2/outputs', TEMPLATES.output)
    const stream = await create('/apis/v2/streams', streamBody('bench stream', { inputId: String(input.uuid), transcoderId: String(transcoder.uuid) }, String(output.uuid)))

    // The stored forms (what the data file holds), not the presented ones.
    const db = app.kraken.store.snapshot()
    const stored = (collection: string, id: unknown): Item => {
      const item = db.collections[collection]?.find(i => i.uuid === id)
      if (item === undefined) throw new Error(`seeding: ${collection} ${String(id)} is not in the store`)
      return item
    }
    const outputTemplate = stored('outputs', output.uuid)
    const streamTemplate = stored('streams', stream.uuid)
    db.collections.outputs = (db.collections.outputs ?? []).filter(i => i.uuid !== output.uuid)
    db.collections.streams = (db.collections.streams ?? []).filter(i => i.uuid !== stream.uuid)

    const streamIds: string[] = []
    for (let i = 0; i < options.streams; i++) {
      const outputId = randomUUID()
      db.collections.outputs.push({ ...outputTemplate, uuid: outputId, name: `bench output ${i}` })
      const uuid = randomUUID()
      db.collections.streams.push({ ...streamTemplate, uuid, name: `bench stream ${i}`, outputs: [outputId] })
      streamIds.push(uuid)
    }
    const freeOutputIds: string[] = []
    for (let i = 0; i < options.freeOutputs; i++) {
      const uuid = randomUUID()
      db.collections.outputs.push({ ...outputTemplate, uuid, name: `bench free output ${i}` })
      freeOutputIds.push(uuid)
    }
    checkDb(db, app.kraken.registry)
    return { db, streamIds, freeOutputIds, inputId: String(input.uuid), transcoderId: String(transcoder.uuid) }
  } finally {
    await app.close()
  }
}

/** Writes a db as a data file the emulator opens (`--data`), creating the directory. */
export async function writeDataFile (file: string, db: Db): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(db))
}
