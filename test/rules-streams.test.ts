import t from 'tap'
import { call, login } from './helpers/app.ts'
import { API, assertRefused, attempt, create, kit, mediaApp, pretend } from './helpers/media.ts'

// Stream rules (kraken-api.md section 5): references, modes, protocols, one stream per output,
// objects in use, and the running stream.

const MISSING = '00000000-0000-4000-8000-000000000000'

t.test('a stream with every reference resolvable is created with defaults and live status', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  const s = await create(m, 'streams', { name: 's', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid], status: 'running' })
  t.match(s, { mode: 'transcoder', passthru_uuid: null, metadatas: [], auto_start: false, status: 'stopped', sub_status: '', description: '', log_to_file: true })
  // An input may feed several streams.
  await create(m, 'streams', { name: 's2', input: k.udpIn.uuid, mode: 'iorouter', outputs: [k.out[1]!.uuid] })
})

t.test('rules that refuse a new stream with 400, naming the field', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  const base = { name: 'bad', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid] }
  const io = { ...base, mode: 'iorouter', transcoder: null }
  const cases: Array<[string, object, string, RegExp]> = [
    ['missing input', { ...base, input: MISSING }, 'input', /input .*does not exist/],
    ['missing transcoder', { ...base, transcoder: MISSING }, 'transcoder', /does not exist/],
    ['missing output', { ...base, outputs: [MISSING] }, 'outputs', /does not exist/],
    ['missing passthru output', { ...base, mode: 'passthru', passthru_uuid: MISSING }, 'passthru_uuid', /does not exist/],
    ['missing metadata', { ...base, metadatas: [MISSING] }, 'metadatas', /does not exist/],
    ['no input', { name: 'x', outputs: [k.out[0]!.uuid], transcoder: k.transcoder.uuid }, 'input', /required/],
    ['no outputs', { ...base, outputs: [] }, 'outputs', /outputs/],
    ['duplicate outputs', { ...base, outputs: [k.out[0]!.uuid, k.out[0]!.uuid] }, 'outputs', /duplicate/],
    ['duplicate metadatas', { ...base, metadatas: [k.klv.uuid, k.klv.uuid] }, 'metadatas', /duplicate/],
    ['no transcoder in transcoder mode', { ...base, transcoder: null }, 'transcoder', /^transcoder is required when mode is transcoder$/],
    ['transcoder in iorouter', { ...io, transcoder: k.transcoder.uuid }, 'transcoder', /^transcoder must be null when mode is iorouter$/],
    ['metadatas in iorouter', { ...io, metadatas: [k.klv.uuid] }, 'metadatas', /must be empty when mode is iorouter/],
    ['passthru without passthru_uuid', { ...base, mode: 'passthru' }, 'passthru_uuid', /required when mode is passthru/],
    ['passthru output also in outputs', { ...base, mode: 'passthru', passthru_uuid: k.out[0]!.uuid }, 'passthru_uuid', /not also be in outputs/],
    ['passthru_uuid outside passthru', { ...base, passthru_uuid: k.out[1]!.uuid }, 'passthru_uuid', /must be null when mode is transcoder/],
    ['RTMP input in transcoder mode', { ...base, input: k.rtmpIn.uuid }, 'mode', /must be iorouter when the input 'rtmp in' is RTMP/],
    ['RTMP output in transcoder mode', { ...base, outputs: [k.rtmpOut.uuid] }, 'mode', /must be iorouter when output 'rtmp out' is RTMP/],
    ['RTMP passthru output', { ...base, mode: 'passthru', passthru_uuid: k.rtmpOut.uuid }, 'mode', /RTMP/],
    ['archive output in transcoder mode', { ...base, outputs: [k.archive.uuid] }, 'outputs', /ts_segment_archive .*only when mode is iorouter/],
    ['RTSP input in passthru', { ...base, input: k.rtspIn.uuid, mode: 'passthru', passthru_uuid: k.out[1]!.uuid }, 'mode', /cannot be passthru .*RTSP/],
    ['unknown field', { ...base, bitrate: 5 }, 'bitrate', /not a known field/],
    ['bad mode', { ...base, mode: 'bypass' }, 'mode', /must be one of/],
    ['name too long', { ...base, name: 'n'.repeat(65) }, 'name', /64/]
  ]
  for (const [what, body, field, message] of cases) {
    await t.test(what, async t => { assertRefused(t, await attempt(m, 'POST', 'streams', body), { status: 400, field, message }) })
  }
  // The same objects are accepted where the mode allows them.
  await create(m, 'streams', { ...io, name: 'rtmp bypass', input: k.rtmpIn.uuid, outputs: [k.rtmpOut.uuid] })
  await create(m, 'streams', { ...io, name: 'archive', outputs: [k.archive.uuid] })
  await create(m, 'streams', { ...io, name: 'rtsp bypass', input: k.rtspIn.uuid, outputs: [k.out[2]!.uuid] })
  await create(m, 'streams', { ...base, name: 'rtsp transcoded', input: k.rtspIn.uuid, outputs: [k.out[3]!.uuid], metadatas: [k.klv.uuid] })
})

t.test('an output serves one stream; names are unique (409 naming the other)', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  const first = await create(m, 'streams', { name: 'first', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, mode: 'passthru', passthru_uuid: k.out[1]!.uuid, outputs: [k.out[0]!.uuid] })
  const base = { input: k.udpIn.uuid, transcoder: k.transcoder.uuid }
  assertRefused(t, await attempt(m, 'POST', 'streams', { ...base, name: 'second', outputs: [k.out[0]!.uuid] }),
    { status: 409, field: 'outputs', message: new RegExp(`output 'out 1' .* already serves stream 'first' \\(${first.uuid}\\)`) })
  assertRefused(t, await attempt(m, 'POST', 'streams', { ...base, name: 'second', outputs: [k.out[1]!.uuid] }),
    { status: 409, field: 'outputs', message: /'out 2' .*already serves stream 'first'/ })
  assertRefused(t, await attempt(m, 'POST', 'streams', { ...base, name: 'second', mode: 'passthru', passthru_uuid: k.out[0]!.uuid, outputs: [k.out[2]!.uuid] }),
    { status: 409, field: 'passthru_uuid', message: /already serves stream 'first'/ })
  assertRefused(t, await attempt(m, 'POST', 'streams', { ...base, name: 'first', outputs: [k.out[2]!.uuid] }),
    { status: 409, field: 'name', message: /name 'first' is already used/ })
  // A PUT of the stream itself keeps its own outputs.
  const res = await call(m.app, m.cookie, 'PUT', `${API}/streams/stream-${first.uuid}`, { description: 'kept' })
  t.equal(res.statusCode, 200, res.body)
})

t.test('a PUT is checked as a whole: the contract\'s example', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  const s = await create(m, 'streams', { name: 's', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid] })
  const r = await attempt(m, 'PUT', `streams/stream-${s.uuid}`, { mode: 'iorouter' })
  assertRefused(t, r, { status: 400, field: 'transcoder', message: /^transcoder must be null when mode is iorouter$/ })
  const ok = await call(m.app, m.cookie, 'PUT', `${API}/streams/${s.uuid}`, { mode: 'iorouter', transcoder: null })
  t.equal(ok.statusCode, 200, ok.body)
  t.match(ok.json(), { mode: 'iorouter', transcoder: null, name: 's' })
})

t.test('objects used by a stream cannot be deleted (409 naming the streams)', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  await create(m, 'streams', { name: 'alpha', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid], metadatas: [k.klv.uuid] })
  await create(m, 'streams', { name: 'beta', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[1]!.uuid], metadatas: [k.klv.uuid] })
  for (const [path, uuid, users] of [
    ['inputs/input', k.udpIn.uuid, /stream 'alpha'.*stream 'beta'/],
    ['outputs/output', k.out[0]!.uuid, /stream 'alpha'/],
    ['transcoders/transcoder', k.transcoder.uuid, /stream 'alpha'.*stream 'beta'/],
    ['metadata/metadata', k.klv.uuid, /stream 'alpha'.*stream 'beta'/]
  ] as const) {
    assertRefused(t, await attempt(m, 'DELETE', `${path}-${uuid}`), { status: 409, field: 'uuid', message: users })
  }
  const free = await call(m.app, m.cookie, 'DELETE', `${API}/outputs/output-${k.out[3]!.uuid}`)
  t.equal(free.statusCode, 204, 'an unused output can be deleted')
})

t.test('a running stream cannot be changed or deleted; its status is live', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  const s = await create(m, 'streams', { name: 'live', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid] })
  const other = await create(m, 'streams', { name: 'idle', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[1]!.uuid] })
  pretend(m.app, [s.uuid], 'running')
  const got = await call(m.app, m.cookie, 'GET', `${API}/streams/stream-${s.uuid}`)
  t.equal(got.json().status, 'running', 'GET shows the runtime status')
  const list = (await call(m.app, m.cookie, 'GET', `${API}/streams`)).json() as { stream_list: Array<{ uuid: string, status: string }> }
  t.same(list.stream_list.map(x => [x.uuid, x.status]), [[s.uuid, 'running'], [other.uuid, 'stopped']], 'lists show it too')

  assertRefused(t, await attempt(m, 'PUT', `streams/stream-${s.uuid}`, { description: 'x' }), { status: 409, field: 'status', message: /stream 'live' .* is running: stop it first/ })
  assertRefused(t, await attempt(m, 'DELETE', `streams/stream-${s.uuid}`), { status: 409, field: 'status', message: /is running: stop it first/ })
  // Nor the objects it uses [ours]; objects of stopped streams stay editable.
  assertRefused(t, await attempt(m, 'PUT', `inputs/input-${k.udpIn.uuid}`, { name: 'renamed' }), { status: 409, field: 'uuid', message: /used by running stream 'live'/ })
  assertRefused(t, await attempt(m, 'PUT', `outputs/output-${k.out[0]!.uuid}`, { ttl: 3 }), { status: 409, field: 'uuid', message: /running stream 'live'/ })
  assertRefused(t, await attempt(m, 'PUT', `transcoders/transcoder-${k.transcoder.uuid}`, { gop_size: 30 }), { status: 409, field: 'uuid', message: /running stream 'live'/ })
  t.equal((await call(m.app, m.cookie, 'PUT', `${API}/outputs/output-${k.out[1]!.uuid}`, { ttl: 3 })).statusCode, 200)

  pretend(m.app, [s.uuid], 'starting')
  assertRefused(t, await attempt(m, 'PUT', `streams/stream-${s.uuid}`, { description: 'x' }), { status: 409, field: 'status', message: /is starting/ })
  pretend(m.app, [s.uuid], 'error')
  t.equal((await call(m.app, m.cookie, 'PUT', `${API}/streams/stream-${s.uuid}`, { description: 'x' })).statusCode, 200, 'a stream in error can be changed')
  t.equal((await call(m.app, m.cookie, 'DELETE', `${API}/streams/stream-${s.uuid}`)).statusCode, 204, 'and deleted')
})

t.test('GET-edit-PUT of an unchanged object a running stream uses is a 200; a real change is a 409', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  const relay = await create(m, `metadata/metadata-${k.klv.uuid}/relays`, { address: '10.0.0.7', port: 4000 })
  const s = await create(m, 'streams', { name: 'live', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid], metadatas: [k.klv.uuid] })
  pretend(m.app, [s.uuid], 'running')
  const paths = [
    `inputs/input-${k.udpIn.uuid}`, `outputs/output-${k.out[0]!.uuid}`, `transcoders/transcoder-${k.transcoder.uuid}`,
    `metadata/metadata-${k.klv.uuid}`, `metadata/metadata-${k.klv.uuid}/relays/relay-${relay.uuid}`, `streams/stream-${s.uuid}`
  ]
  for (const path of paths) {
    const got = await call(m.app, m.cookie, 'GET', `${API}/${path}`)
    const before = m.app.kraken.store.snapshot()
    const put = await call(m.app, m.cookie, 'PUT', `${API}/${path}`, got.json())
    t.equal(put.statusCode, 200, `${path}: the unchanged item sent back (${put.body})`)
    t.same(put.json(), got.json(), `${path}: answered as stored`)
    t.same(m.app.kraken.store.snapshot(), before, `${path}: nothing written`)
  }
  const output = (await call(m.app, m.cookie, 'GET', `${API}/outputs/output-${k.out[0]!.uuid}`)).json() as Record<string, unknown>
  const changed = await attempt(m, 'PUT', `outputs/output-${k.out[0]!.uuid}`, { ...output, ttl: 3 })
  assertRefused(t, changed, { status: 409, field: 'uuid', message: /running stream 'live'/ })
  assertRefused(t, await attempt(m, 'PUT', `metadata/metadata-${k.klv.uuid}/relays/relay-${relay.uuid}`, { port: 4001 }), { status: 409, field: 'uuid', message: /running stream 'live'/ })
})

t.test('a change of protocol that would break a stream using the object is refused (409)', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const k = await kit(m)
  await create(m, 'streams', { name: 'tx', input: k.udpIn.uuid, transcoder: k.transcoder.uuid, outputs: [k.out[0]!.uuid] })
  assertRefused(t, await attempt(m, 'PUT', `outputs/output-${k.out[0]!.uuid}`, { protocol: 'rtmp', url: 'rtmp://10.0.0.1/live/x' }),
    { status: 409, field: 'protocol', message: /protocol rtmp would break stream 'tx' .*mode must be iorouter/ })
  assertRefused(t, await attempt(m, 'PUT', `inputs/input-${k.udpIn.uuid}`, { protocol: 'rtmp', url: 'rtmp://10.0.0.1/live/x' }),
    { status: 409, field: 'protocol', message: /would break stream 'tx'/ })
  const ok = await call(m.app, m.cookie, 'PUT', `${API}/inputs/input-${k.udpIn.uuid}`, { protocol: 'rtsp', url: 'rtsp://10.0.0.1/cam' })
  t.equal(ok.statusCode, 200, 'RTSP is fine in transcoder mode')
})

t.test('roles: a Viewer reads streams but cannot create them', async t => {
  const m = await mediaApp('default')
  t.teardown(() => m.app.close())
  const viewer = await login(m.app, 'user')
  t.equal((await call(m.app, viewer, 'GET', `${API}/streams`)).statusCode, 200)
  const res = await call(m.app, viewer, 'POST', `${API}/streams`, { name: 'x' })
  t.equal(res.statusCode, 403)
})
