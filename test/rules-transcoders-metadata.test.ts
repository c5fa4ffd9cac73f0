import t from 'tap'
import { call } from './helpers/app.ts'
import { API, assertRefused, attempt, create, mediaApp, pretend } from './helpers/media.ts'

// Transcoder, metadata source and relay rules (kraken-api.md section 5).

t.test('transcoder ranges and dimensions', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const tc = await create(m, 'transcoders', { name: 'default' })
  t.match(tc, { format: 'h264', video_bitrate: 2000, width: 0, height: 0, framerate: 'auto', gop_size: 60, audio_bitrate: 128, klv_passthrough: true, klv_decimation: 1, ts_shaping: false, ts_bitrate: null, video_max_bitrate_pct: 100 })
  const cases: Array<[object, string, RegExp]> = [
    [{ width: 1280, height: 0 }, 'height', /must be 0 only when the other dimension is 0 too/],
    [{ width: 100, height: 720 }, 'width', /^width must be 0 \(keep the source\) or 128-1920$/],
    [{ width: 1281, height: 720 }, 'width', /must be even/],
    [{ width: 1280, height: 90 }, 'height', /or 96-1080/],
    [{ width: 1920, height: 1082 }, 'height', /<= 1080/],
    [{ audio_bitrate: 16 }, 'audio_bitrate', /0 \(audio off\) or 32-320/],
    [{ video_bitrate: 99 }, 'video_bitrate', />= 100/],
    [{ framerate: 0 }, 'framerate', /framerate/],
    [{ framerate: 'fast' }, 'framerate', /framerate/],
    [{ gop_size: 301 }, 'gop_size', /<= 300/],
    [{ video_max_bitrate_pct: 151 }, 'video_max_bitrate_pct', /<= 150/],
    [{ format: 'vp9' }, 'format', /must be one of "h264", "hevc"/]
  ]
  for (const [body, field, message] of cases) assertRefused(t, await attempt(m, 'PUT', `transcoders/transcoder-${tc.uuid}`, body), { status: 400, field, message })
  const ok = await call(m.app, m.cookie, 'PUT', `${API}/transcoders/transcoder-${tc.uuid}`, { width: 1280, height: 720, framerate: 29.97, audio_bitrate: 0 })
  t.equal(ok.statusCode, 200, ok.body)
})

t.test('a shaped TS carries video + audio (+ 200 kbps of KLV)', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const base = { name: 'shaped', video_bitrate: 2500, audio_bitrate: 128, ts_shaping: true }
  assertRefused(t, await attempt(m, 'POST', 'transcoders', base), { status: 400, field: 'ts_bitrate', message: /^ts_bitrate is required when ts_shaping is true$/ })
  assertRefused(t, await attempt(m, 'POST', 'transcoders', { ...base, ts_bitrate: 2827 }),
    { status: 400, field: 'ts_bitrate', message: /must be at least 2828 kbps \(video_bitrate 2500 \+ audio_bitrate 128 \+ 200 for KLV passthrough\)/ })
  t.equal((await create(m, 'transcoders', { ...base, ts_bitrate: 2828 })).ts_bitrate, 2828, 'exactly the minimum is fine')
  assertRefused(t, await attempt(m, 'POST', 'transcoders', { ...base, name: 'noklv', klv_passthrough: false, ts_bitrate: 2627 }),
    { status: 400, field: 'ts_bitrate', message: /at least 2628 kbps/ })
  t.equal((await create(m, 'transcoders', { ...base, name: 'noklv', klv_passthrough: false, ts_bitrate: 2628 })).ts_bitrate, 2628)
  t.equal((await create(m, 'transcoders', { name: 'unshaped', ts_bitrate: 100 })).ts_shaping, false, 'no minimum without shaping')
})

t.test('metadata sources', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const video = await create(m, 'metadata', { name: 'from video' })
  t.match(video, {
    input_method: 'video_source', data_format: 'klv', udp_port: null, multicast_address: null, cot_max_spi_delta_ms: 0, cot_spi_uid: null,
    cot_relay_enabled: false, relay_ttl: 64, relay_tos: 184, mission_id: '', platform_call_sign: '',
    security_set: { enabled: false, classification: 'Unclassified', classifying_country: '', object_countries: [] }
  })
  const net = { name: 'net', input_method: 'network', udp_port: 6000 }
  const cases: Array<[object, string, RegExp]> = [
    [{ name: 'x', data_format: 'cot' }, 'data_format', /^data_format must be klv when input_method is video_source$/],
    [{ name: 'x', input_method: 'network' }, 'udp_port', /^udp_port is required when input_method is network$/],
    [{ name: 'x', udp_port: 6000 }, 'udp_port', /^udp_port must be null when input_method is video_source$/],
    [{ ...net, multicast_address: '10.0.0.1' }, 'multicast_address', /must be a multicast address/],
    [{ ...net, cot_relay_enabled: true }, 'cot_relay_enabled', /must be false unless data_format is cot/],
    [{ ...net, mission_id: 'm'.repeat(128) }, 'mission_id', /127/],
    [{ ...net, security_set: { enabled: true } }, 'security_set.classifying_country', /required when security_set.enabled is true/],
    [{ ...net, security_set: { classification: 'Cosmic' } }, 'security_set.classification', /must be one of/],
    [{ ...net, security_set: { classifying_country: 'us' } }, 'security_set.classifying_country', /pattern/],
    [{ ...net, security_set: { enabled: true, classifying_country: 'XXX' } }, 'security_set.classifying_country', /'XXX' is not an ISO 3166-1 alpha-3 country code/],
    [{ ...net, security_set: { object_countries: ['CAN', 'ZZZ'] } }, 'security_set.object_countries', /'ZZZ' is not an ISO 3166-1 alpha-3/],
    [{ ...net, security_set: { object_countries: ['USA', 'CAN', 'GBR', 'AUS', 'NZL', 'FRA', 'DEU'] } }, 'security_set.object_countries', /6/],
    [{ name: 'from video' }, 'name', /already used/]
  ]
  for (const [body, field, message] of cases) {
    const r = await attempt(m, 'POST', 'metadata', body)
    assertRefused(t, r, { status: field === 'name' ? 409 : 400, field, message })
  }
  const secure = await create(m, 'metadata', { ...net, name: 'secure', security_set: { enabled: true, classifying_country: 'CAN', object_countries: ['CAN'] } })
  t.same(secure.security_set, { enabled: true, classification: 'Unclassified', classifying_country: 'CAN', object_countries: ['CAN'] })
  assertRefused(t, await attempt(m, 'POST', 'metadata', { ...net, name: 'same port' }),
    { status: 409, field: 'udp_port', message: /udp_port 6000 is already received by metadata source 'secure'/ })
  // Switching to video_source clears the network settings.
  const res = await call(m.app, m.cookie, 'PUT', `${API}/metadata/metadata-${secure.uuid}`, { input_method: 'video_source' })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { udp_port: null, multicast_address: null })
})

t.test('at most 8 network metadata sources (409)', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  for (let i = 0; i < 8; i++) await create(m, 'metadata', { name: `n${i}`, input_method: 'network', udp_port: 6000 + i })
  assertRefused(t, await attempt(m, 'POST', 'metadata', { name: 'ninth', input_method: 'network', udp_port: 7000 }),
    { status: 409, field: 'input_method', message: /at most 8 network metadata sources/ })
  const video = await create(m, 'metadata', { name: 'video' })
  assertRefused(t, await attempt(m, 'PUT', `metadata/metadata-${video.uuid}`, { input_method: 'network', udp_port: 7000 }),
    { status: 409, field: 'input_method', message: /at most 8/ })
})

t.test('relays live under their metadata source', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const cot = await create(m, 'metadata', { name: 'cot', input_method: 'network', data_format: 'cot', udp_port: 6969, cot_relay_enabled: true })
  const base = `metadata/metadata-${cot.uuid}/relays`
  const relay = await create(m, base, { address: '10.0.0.5', port: 4242 })
  t.same(Object.keys(relay).sort(), ['address', 'port', 'uuid'])
  const list = await call(m.app, m.cookie, 'GET', `${API}/metadata/${cot.uuid}/relays`)
  t.same(list.json(), { relay_list: [relay] }, 'listed under the bare-id path too')
  assertRefused(t, await attempt(m, 'POST', base, { address: '10.0.0.5', port: 4242 }), { status: 409, field: 'address', message: /10.0.0.5:4242 is already relay/ })
  assertRefused(t, await attempt(m, 'POST', base, { address: '10.0.0.300', port: 4242 }), { status: 400, field: 'address', message: /ipv4/ })
  assertRefused(t, await attempt(m, 'POST', base, { address: '10.0.0.6' }), { status: 400, field: 'port', message: /required/ })
  const other = await create(m, 'metadata', { name: 'other' })
  t.equal((await call(m.app, m.cookie, 'GET', `${API}/metadata/metadata-${other.uuid}/relays/relay-${relay.uuid}`)).statusCode, 404, 'not under another source')

  // A running stream using the source freezes its relays [ours].
  const input = await create(m, 'inputs', { name: 'in', url: 'udp://239.1.1.1:5000' })
  const output = await create(m, 'outputs', { name: 'out', url: 'udp://239.1.1.2:5000' })
  const tc = await create(m, 'transcoders', { name: 'tc' })
  const stream = await create(m, 'streams', { name: 's', input: input.uuid, transcoder: tc.uuid, outputs: [output.uuid], metadatas: [cot.uuid] })
  pretend(m.app, [stream.uuid])
  assertRefused(t, await attempt(m, 'POST', base, { address: '10.0.0.7', port: 1 }), { status: 409, field: 'uuid', message: /used by running stream 's'/ })
  assertRefused(t, await attempt(m, 'DELETE', `${base}/relay-${relay.uuid}`), { status: 409, field: 'uuid', message: /running stream 's'/ })
  pretend(m.app, [stream.uuid], 'stopped')
  t.equal((await call(m.app, m.cookie, 'DELETE', `${API}/streams/stream-${stream.uuid}`)).statusCode, 204)
  // Deleting the source deletes its relays.
  t.equal((await call(m.app, m.cookie, 'DELETE', `${API}/metadata/metadata-${cot.uuid}`)).statusCode, 204)
  t.equal(m.app.kraken.store.list('metadata.relays').length, 0)
})
