// Migration to format 3 (issue 22): the licence gains `features` (a format-2 licence gets both, as
// format 2 checked none), archive locations become a collection, and each ts_segment_archive output
// names one instead of holding a path in `url`.
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildApp } from '../src/app.ts'
import type { Db, Item } from '../src/kernel/store.ts'
import { v3RecordingLicence } from '../src/migrations/v3-recording-licence.ts'
import { call, login } from './helpers/app.ts'
import { tempDir } from './helpers/cli.ts'

const FORMAT_2 = fileURLToPath(new URL('./fixtures/data-files/kraken-format-2.json', import.meta.url))

t.test('a format-2 file opens with a location per archive path, its outputs naming it, and a licence with both features', async t => {
  const db = JSON.parse(await readFile(FORMAT_2, 'utf8')) as Db
  const archive = db.collections.outputs!.find(o => o.protocol === 'ts_segment_archive')!
  // A second archive output into the same folder shares its location; a third elsewhere gets its own.
  const twin: Item = { ...archive, uuid: '0b4c3a51-0d7e-4f2a-8b6c-5e9d1a2f3b40', name: 'Twin Archive' }
  const other: Item = { ...archive, uuid: '1c5d4b62-1e8f-4a3b-9c7d-6f0e2b3a4c51', name: 'Other Archive', url: '/data/other/' }
  db.collections.outputs!.push(twin, other)
  const dir = await tempDir(t)
  const data = path.join(dir, 'kraken.json')
  await writeFile(data, JSON.stringify(db))

  const app = await buildApp({ data, logLevel: 'silent', transitionMs: 0, rebootMs: 0 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  const license = (await call(app, cookie, 'GET', '/apis/v2/license')).json() as { features: string[], max_encoders: number }
  t.same(license.features, ['Recording', 'KLV'], 'the licence grants what format 2 allowed')
  t.equal(license.max_encoders, 4, 'the rest of the licence is kept')

  const locations = (await call(app, cookie, 'GET', '/apis/v2/archive_locations?full=true')).json() as { archive_location_list: Item[] }
  t.same(locations.archive_location_list.map(l => [l.name, l.type, l.path, l.quota_mb, l.used_bytes, l.nfs_server]),
    [['Ground Station Archive', 'local', '/data/archive/ground-station', 1_000_000, 0, null], ['Other Archive', 'local', '/data/other', 1_000_000, 0, null]],
    'one local location per distinct path, named after its first output')
  const [first, second] = locations.archive_location_list as [Item, Item]
  const read = async (uuid: unknown) => (await call(app, cookie, 'GET', `/apis/v2/outputs/output-${String(uuid)}`)).json() as Item
  t.match(await read(archive.uuid), { archive_location: first.uuid, url: `/data/archive/ground-station/${String(archive.uuid)}` })
  t.match(await read(twin.uuid), { archive_location: first.uuid, url: `/data/archive/ground-station/${String(twin.uuid)}` })
  t.match(await read(other.uuid), { archive_location: second.uuid, url: `/data/other/${String(other.uuid)}` })
  const udp = db.collections.outputs!.find(o => o.protocol === 'ts_udp')!
  t.equal((await read(udp.uuid)).archive_location, null, 'other outputs name no location')

  // The stored file is format 3 now, and the location ids do not depend on the run.
  const again = v3RecordingLicence(JSON.parse(await readFile(FORMAT_2, 'utf8')) as Db)
  t.equal(again.collections.archive_locations![0]!.uuid, first.uuid, 'a location id is derived from its path: the same on every run')
  t.match(JSON.parse(await readFile(data, 'utf8')), { format: 'kraken-emulator/3' })
})
