// Recording (issue 22, kraken-api.md section 10) over a real HTTPS port: archive locations (local
// or NFS, with a quota) as a resource; recording (ts_segment_archive) outputs name one; a running
// recording stream fills its location by its bitrate on the device clock (manual here) and fails
// with its reason when the quota is full; Recording needs the licence feature and the service.
import t, { type Test } from 'tap'
import { TEST_LICENSE_PRIVATE_KEY_PEM } from '../src/license-mint.ts'
import { signLicense } from '../src/system/license-file.ts'
import { loginHttps, send, startHttps } from './helpers/https.ts'

type Emulator = Awaited<ReturnType<typeof startHttps>>
type Json = Record<string, unknown>
const API = '/apis/v2'
const LOCAL_DISK = '5c3e8a71-2f4d-4b9e-8a16-7d0c9e4b2f58'
const GROUND_STATION_STREAM = 'Ground Station Record + Relay'

function refused (t: Test, res: { status: number, json: () => unknown }, status: number, type: string, pattern: RegExp, label: string): void {
  t.equal(res.status, status, `${label}: ${status}`)
  t.match(res.json(), { error: { type, message: pattern, details: Array } }, `${label}: the envelope says why`)
}

async function json (emu: Emulator, cookie: string, path: string): Promise<Json> {
  const res = await send(emu, 'GET', `${API}${path}`, { cookie })
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`)
  return res.json() as Json
}

async function post (emu: Emulator, cookie: string, path: string, body: unknown): Promise<Json> {
  const res = await send(emu, 'POST', `${API}${path}`, { cookie, body })
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`)
  return res.json() as Json
}

t.test('archive locations: create, read, change, list and delete; every role reads, Administrators write', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const nas = { name: 'Brigade NAS', type: 'nfs', path: '/mnt/brigade', nfs_server: '10.10.0.41', nfs_export: '/exports/brigade', quota_mb: 250_000 }
  const created = await post(emu, admin, '/archive_locations', { ...nas, used_bytes: 123 })
  t.match(created, { ...nas, used_bytes: 0, uuid: /^[0-9a-f-]{36}$/ }, 'created with every key; used_bytes is read-only')
  const item = `/archive_locations/archive_location-${String(created.uuid)}`
  t.same(await json(emu, admin, item), created)
  const changed = await send(emu, 'PUT', `${API}${item}`, { cookie: admin, body: { quota_mb: 300_000 } })
  t.equal(changed.status, 200)
  t.equal((changed.json() as Json).quota_mb, 300_000)
  const local = await send(emu, 'PUT', `${API}${item}`, { cookie: admin, body: { type: 'local' } })
  t.match(local.json(), { type: 'local', nfs_server: null, nfs_export: null }, 'turned local, its NFS fields are cleared')

  for (const user of ['operator', 'user']) {
    const cookie = await loginHttps(emu, user)
    const list = (await json(emu, cookie, '/archive_locations')).archive_location_list as Json[]
    t.same(list.map(l => l.name), ['Local Disk', 'TOC NAS', 'Brigade NAS'], `${user} lists them`)
    t.same(Object.keys(list[0]!).sort(), ['name', 'path', 'quota_mb', 'type', 'used_bytes', 'uuid'], 'the summary fields')
    refused(t, await send(emu, 'POST', `${API}/archive_locations`, { cookie, body: { ...nas, name: 'x', path: '/x' } }), 403, 'SessionAuthorization', /may not/, `${user} creates`)
    refused(t, await send(emu, 'PUT', `${API}${item}`, { cookie, body: { quota_mb: 1 } }), 403, 'SessionAuthorization', /may not/, `${user} changes`)
    refused(t, await send(emu, 'DELETE', `${API}${item}`, { cookie }), 403, 'SessionAuthorization', /may not/, `${user} deletes`)
  }
  refused(t, await send(emu, 'GET', `${API}/archive_locations`), 401, 'SessionAuthentication', /session/, 'no session')
  t.equal((await send(emu, 'DELETE', `${API}${item}`, { cookie: admin })).status, 204)
  t.equal((await send(emu, 'GET', `${API}${item}`, { cookie: admin })).status, 404, 'gone')
})

t.test('bad archive locations and recording outputs are refused in the envelope; nothing changes', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const before = await json(emu, admin, '/archive_locations?full=true')
  const outputsBefore = await json(emu, admin, '/outputs?full=true')
  const ok = { name: 'New', path: '/data/new', quota_mb: 10 }
  const bad: Array<[string, unknown, number, RegExp]> = [
    ['a quota of zero', { ...ok, quota_mb: 0 }, 400, /quota_mb must be >= 1/],
    ['a quota as a string', { ...ok, quota_mb: '10' }, 400, /quota_mb must be integer/],
    ['a quota beyond 1 PB', { ...ok, quota_mb: 2_000_000_000 }, 400, /quota_mb must be <= 1000000000/],
    ['a relative path', { ...ok, path: 'data/new' }, 400, /path must match/],
    ['a path with ..', { ...ok, path: '/data/../etc' }, 400, /path must not contain `\.\.`/],
    ['no path', { name: 'New' }, 400, /path/],
    ['NFS without a server', { ...ok, type: 'nfs', nfs_export: '/exports/a' }, 400, /nfs_server is required when type is nfs/],
    ['NFS without an export', { ...ok, type: 'nfs', nfs_server: '10.0.0.1' }, 400, /nfs_export is required when type is nfs/],
    ['an NFS server on a local location', { ...ok, nfs_server: '10.0.0.1' }, 400, /nfs_server must be null when type is local/],
    ['an unknown type', { ...ok, type: 'smb' }, 400, /type must be one of "local", "nfs"/],
    ['an unknown field', { ...ok, sharename: 'x' }, 400, /sharename/],
    ['a name too long', { ...ok, name: 'n'.repeat(65) }, 400, /name must NOT have more than 64 characters/],
    ['a taken path', { ...ok, path: '/data/archive' }, 409, /path '\/data\/archive' is already used/],
    ['a taken name', { ...ok, name: 'Local Disk' }, 409, /name 'Local Disk' is already used/]
  ]
  for (const [label, body, status, message] of bad) {
    refused(t, await send(emu, 'POST', `${API}/archive_locations`, { cookie: admin, body }), status, status === 409 ? 'Conflict' : 'Validation', message, label)
  }
  refused(t, await send(emu, 'PUT', `${API}/archive_locations/archive_location-${LOCAL_DISK}`, { cookie: admin, body: { quota_mb: 0 } }), 400, 'Validation', /quota_mb must be >= 1/, 'a quota changed to zero')
  refused(t, await send(emu, 'DELETE', `${API}/archive_locations/archive_location-${LOCAL_DISK}`, { cookie: admin }), 409, 'Conflict', /in use by .*Ground Station Archive/, 'deleting a location an output records into')

  const archive = { name: 'Rec', protocol: 'ts_segment_archive' }
  refused(t, await send(emu, 'POST', `${API}/outputs`, { cookie: admin, body: archive }), 400, 'Validation', /archive_location is required when protocol is ts_segment_archive/, 'a recording output naming no location')
  refused(t, await send(emu, 'POST', `${API}/outputs`, { cookie: admin, body: { ...archive, archive_location: '0b4c3a51-0d7e-4f2a-8b6c-5e9d1a2f3b40' } }), 400, 'Validation', /archive_location/, 'a location that does not exist')
  refused(t, await send(emu, 'POST', `${API}/outputs`, { cookie: admin, body: { ...archive, archive_location: 'disk' } }), 400, 'Validation', /archive_location must match format "uuid"/, 'a location that is no uuid')
  refused(t, await send(emu, 'POST', `${API}/outputs`, { cookie: admin, body: { name: 'Udp', url: 'udp://239.1.1.1:5000', archive_location: LOCAL_DISK } }), 400, 'Validation', /archive_location must be null when protocol is ts_udp/, 'a location on a UDP output')
  t.same(await json(emu, admin, '/archive_locations?full=true'), before, 'the locations are unchanged')
  t.same(await json(emu, admin, '/outputs?full=true'), outputsBefore, 'the outputs are unchanged')
})

t.test('a recording stream fills its location by bitrate x time on the manual clock, and fails when the quota is full', async t => {
  const emu = await startHttps({ fixture: 'default', clock: 'manual' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const location = await post(emu, admin, '/archive_locations', { name: 'Small', path: '/data/small', quota_mb: 100 })
  const input = await post(emu, admin, '/inputs', { name: 'Recorded feed', protocol: 'ts_udp', url: 'udp://239.9.9.9:5000' })
  const output = await post(emu, admin, '/outputs', { name: 'Small recording', protocol: 'ts_segment_archive', archive_location: location.uuid })
  t.equal(output.url, `/data/small/${String(output.uuid)}`, 'the recording goes into a folder of its own under the location')
  const stream = await post(emu, admin, '/streams', { name: 'Recorder', mode: 'iorouter', input: input.uuid, transcoder: null, outputs: [output.uuid] })
  const streamPath = `${API}/streams/stream-${String(stream.uuid)}`
  const locationPath = `/archive_locations/archive_location-${String(location.uuid)}`
  const used = async () => (await json(emu, admin, locationPath)).used_bytes
  const listed = async () => ((await json(emu, admin, '/archive_locations')).archive_location_list as Json[]).find(l => l.uuid === location.uuid)?.used_bytes

  t.equal((await send(emu, 'PUT', `${streamPath}/start`, { cookie: admin })).status, 200)
  const rate = ((await json(emu, admin, `/streams/stream-${String(stream.uuid)}/statistics`)).overall_rate as number)
  t.ok(Math.abs(rate - 8_000_000) < 8_000_000 * 0.05, `a TS/UDP source near 8 Mbps in Bypass (${rate} bps)`)
  t.equal(await used(), 0, 'nothing recorded yet')
  emu.clock.advance('30s')
  t.equal(await used(), 30_000_000, '8,000,000 bps x 30 s / 8 = 30 MB')
  t.equal(await listed(), 30_000_000, 'the list shows the live figure too')

  t.equal((await send(emu, 'PUT', `${streamPath}/stop`, { cookie: admin })).status, 200)
  emu.clock.advance('60s')
  t.equal(await used(), 30_000_000, 'a stopped stream records nothing')

  t.equal((await send(emu, 'PUT', `${streamPath}/start`, { cookie: admin })).status, 200)
  emu.clock.advance('69s')
  t.equal(await used(), 99_000_000)
  t.match(await json(emu, admin, `/streams/stream-${String(stream.uuid)}`), { status: 'running', sub_status: '' }, 'still running under the quota')
  emu.clock.advance('1s')
  const reason = "recording: archive location 'Small' is full (quota 100 MB)"
  t.match(await json(emu, admin, `/streams/stream-${String(stream.uuid)}`), { status: 'error', sub_status: reason }, 'at the quota the stream fails, saying why')
  t.equal(await used(), 100_000_000, 'the location is exactly full')
  emu.clock.advance('10m')
  t.equal(await used(), 100_000_000, 'and stays so')

  t.equal((await send(emu, 'PUT', `${streamPath}/stop`, { cookie: admin })).status, 200)
  refused(t, await send(emu, 'PUT', `${streamPath}/start`, { cookie: admin }), 409, 'Conflict', /archive location 'Small' is full/, 'starting it into a full location')
  t.equal((await send(emu, 'PUT', `${API}${locationPath}`, { cookie: admin, body: { quota_mb: 101 } })).status, 200, 'more room')
  t.equal((await send(emu, 'PUT', `${streamPath}/start`, { cookie: admin })).status, 200)
  refused(t, await send(emu, 'PUT', `${API}${locationPath}`, { cookie: admin, body: { quota_mb: 500 } }), 409, 'Conflict', /used by running stream 'Recorder'/, 'a location cannot change under a running recording')
  emu.clock.advance('1s')
  t.match(await json(emu, admin, `/streams/stream-${String(stream.uuid)}`), { status: 'error', sub_status: "recording: archive location 'Small' is full (quota 101 MB)" })

  await emu.reset()
  const again = await loginHttps(emu)
  t.equal((await json(emu, again, `/archive_locations/archive_location-${LOCAL_DISK}`)).used_bytes, 0, 'a reset brings the fixture\'s figures back')
})

t.test('recording needs the licence\'s Recording feature and the recording service', async t => {
  const emu = await startHttps({ fixture: 'default', clock: 'manual' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const streams = (await json(emu, admin, '/streams')).stream_list as Json[]
  const recorder = streams.find(s => s.name === GROUND_STATION_STREAM)!
  const path = `${API}/streams/stream-${String(recorder.uuid)}`
  t.equal((await send(emu, 'PUT', `${path}/start`, { cookie: admin })).status, 200, 'the default device records the ground station')
  emu.clock.advance('10s')
  t.equal((await json(emu, admin, `/archive_locations/archive_location-${LOCAL_DISK}`)).used_bytes, 7_500_000, 'an SRT source (6 Mbps) for 10 s')

  refused(t, await send(emu, 'PUT', `${API}/system/services/recording`, { cookie: admin, body: { enabled: false } }), 409, 'Conflict', /recording .*stop them first/, 'the service cannot stop under a recording')
  const terms = { licence_id: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d', issued: 1_700_000_000, expiration: 0, max_encoders: 4, version_limit: '4.99', mac_address: '' }
  const without = signLicense({ ...terms, features: ['KLV'] }, TEST_LICENSE_PRIVATE_KEY_PEM)
  t.equal((await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: without })).status, 200)
  t.match(await json(emu, admin, `/streams/stream-${String(recorder.uuid)}`), { status: 'error', sub_status: "licence: the Recording feature is not licensed (output 'Ground Station Archive' records)" },
    'a licence without Recording stops the recording stream, saying why')
  emu.clock.advance('10s')
  t.equal((await json(emu, admin, `/archive_locations/archive_location-${LOCAL_DISK}`)).used_bytes, 7_500_000, 'nothing more is recorded')

  t.equal((await send(emu, 'PUT', `${API}/system/services/recording`, { cookie: admin, body: { enabled: false } })).status, 200, 'with nothing recording the service stops')
  refused(t, await send(emu, 'PUT', `${API}/system/services/recording`, { cookie: admin, body: { enabled: true } }), 409, 'Conflict', /does not include the Recording feature/, 'without the feature it cannot start')
  t.equal((await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: signLicense({ ...terms, features: ['Recording', 'KLV'] }, TEST_LICENSE_PRIVATE_KEY_PEM) })).status, 200)
  t.match(await json(emu, admin, `/streams/stream-${String(recorder.uuid)}`), { status: 'error' }, 'licensed again, it still waits for the service')
  await send(emu, 'PUT', `${path}/stop`, { cookie: admin })
  refused(t, await send(emu, 'PUT', `${path}/start`, { cookie: admin }), 409, 'Conflict', /recording service is disabled/, 'starting it with the service off')
  t.equal((await send(emu, 'PUT', `${API}/system/services/recording`, { cookie: admin, body: { enabled: true } })).status, 200)
  t.equal((await send(emu, 'PUT', `${path}/start`, { cookie: admin })).status, 200)
  t.match(await json(emu, admin, `/streams/stream-${String(recorder.uuid)}`), { status: 'running' })
})
