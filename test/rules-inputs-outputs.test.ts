import t from 'tap'
import { call } from './helpers/app.ts'
import { API, assertRefused, attempt, create, mediaApp } from './helpers/media.ts'

// Input and output rules (kraken-api.md section 5): URLs per protocol, NIC names, fields of other
// protocols, the SRT block and its write-only passphrase.

t.test('URLs must have the shape their protocol needs', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const inputs: Array<[string, string, boolean]> = [
    ['ts_udp', 'udp://239.1.1.1:5000', true],
    ['ts_udp', 'udp://@239.1.1.2:5000', true],
    ['ts_udp', 'udp://encoder.local:5000', true],
    ['ts_udp', 'udp://239.1.1.1', false],
    ['ts_udp', 'udp://239.1.1.300:5000', false],
    ['ts_udp', 'udp://239.1.1.1:70000', false],
    ['ts_udp', 'rtsp://10.0.0.1/cam', false],
    ['ts_udp', '', false],
    ['mjpeg', 'udp://10.0.0.5:6000', true],
    ['mjpeg', 'http://10.0.0.5/mjpeg', false],
    ['rtsp', 'rtsp://admin:pw@10.0.0.8:554/Streaming/Channels/101', true],
    ['rtsp', 'udp://10.0.0.8:554', false],
    ['rtsp', 'rtsp:/nohost', false],
    ['rtmp', 'rtmp://10.0.0.9:1935/live/key', true],
    ['rtmp', 'rtmps://10.0.0.9/live/key', false]
  ]
  let n = 0
  for (const [protocol, url, ok] of inputs) {
    const r = await attempt(m, 'POST', 'inputs', { name: `in ${n++}`, protocol, url })
    if (ok) t.equal(r.status, 201, `input ${protocol} ${url}: ${r.body}`)
    else assertRefused(t, r, { status: 400, field: 'url', message: new RegExp(`^url (must be|is required).*${protocol}`) })
  }
  const outputs: Array<[string, string, boolean]> = [
    ['ts_udp', 'udp://239.2.2.2:5000', true],
    ['ts_udp', 'tcp://239.2.2.2:5000', false],
    ['ts_tcp', 'tcp://10.0.0.3:7000', true],
    ['ts_tcp', 'tcp://:4045', true],
    ['ts_tcp', 'tcp://:0', false],
    ['ts_udp', 'udp://:5000', false],
    ['ts_tcp', 'udp://10.0.0.3:7000', false],
    ['rtmp', 'rtmp://10.0.0.4/live/x', true],
    ['rtsp', 'rtsp://10.0.0.5:554/x', true],
    ['rtsp', 'http://10.0.0.5/x', false],
    ['hls', 'https://cdn.example.mil/live/x.m3u8', true],
    ['hls', 'rtmp://10.0.0.4/live/x', false]
  ]
  for (const [protocol, url, ok] of outputs) {
    const r = await attempt(m, 'POST', 'outputs', { name: `out ${n++}`, protocol, url })
    if (ok) t.equal(r.status, 201, `output ${protocol} ${url}: ${r.body}`)
    else assertRefused(t, r, { status: 400, field: 'url', message: new RegExp(`^url must be .*${protocol}`) })
  }
})

t.test('outputs the device serves or places need no url: it is derived and shown (RTSP pull, HLS, archive)', async t => {
  const m = await mediaApp('default')
  t.teardown(() => m.app.close())
  const network = (await call(m.app, m.cookie, 'GET', `${API}/system/network`)).json() as { nics: Array<{ ipAddress: string }> }
  const device = network.nics.find(n => n.ipAddress !== '')!.ipAddress
  const pull = await create(m, 'outputs', { name: 'pull', protocol: 'rtsp', rtsp_direction: 'pull' })
  t.equal(pull.url, `rtsp://${device}:554/${pull.uuid}`, 'served by the device on its address and RTSP port')
  const hls = await create(m, 'outputs', { name: 'hls', protocol: 'hls' })
  t.equal(hls.url, `https://${device}/hls/${hls.uuid}/index.m3u8`)
  const named = await create(m, 'outputs', { name: 'named pull', protocol: 'rtsp', rtsp_direction: 'pull', url: `rtsp://${device}:554/gate` })
  t.equal(named.url, `rtsp://${device}:554/gate`, 'a given url is kept: it names the path served')
  // A recording output goes into a folder of its own under its archive location (format 3).
  const location = (await call(m.app, m.cookie, 'GET', `${API}/archive_locations`)).json().archive_location_list.find((l: { path: string }) => l.path === '/data/archive')
  const archive = await create(m, 'outputs', { name: 'archive', protocol: 'ts_segment_archive', archive_location: location.uuid })
  t.equal(archive.url, `/data/archive/${archive.uuid}`)
  const placed = await create(m, 'outputs', { name: 'placed', protocol: 'ts_segment_archive', archive_location: location.uuid, url: '/data/archive/mine' })
  t.equal(placed.url, `/data/archive/${placed.uuid}`, 'a given url is replaced: the archive location decides')
  const list = (await call(m.app, m.cookie, 'GET', `${API}/outputs`)).json() as { output_list: Array<{ uuid: string, url: string }> }
  t.equal(list.output_list.find(o => o.uuid === pull.uuid)?.url, pull.url, 'lists show the derived url')
  // The caller still gives the url of everything the device sends somewhere.
  for (const [protocol, extra] of [['ts_udp', {}], ['ts_tcp', {}], ['rtmp', {}], ['rtsp', { rtsp_direction: 'push' }]] as const) {
    assertRefused(t, await attempt(m, 'POST', 'outputs', { name: `no url ${protocol}`, protocol, ...extra }),
      { status: 400, field: 'url', message: new RegExp(`^url is required when protocol is ${protocol}`) })
  }
  // Emptied, it is derived again (here after the RTSP port changed).
  t.equal((await call(m.app, m.cookie, 'PUT', `${API}/system/services/rtspserver`, { rtsp_port: 8554 })).statusCode, 200)
  const moved = await call(m.app, m.cookie, 'PUT', `${API}/outputs/output-${pull.uuid}`, { url: '' })
  t.equal(moved.json().url, `rtsp://${device}:8554/${pull.uuid}`)
})

t.test('an input without a name is named after its url, and that name must be free', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const a = await create(m, 'inputs', { url: 'udp://239.1.1.1:5000' })
  t.equal(a.name, 'udp://239.1.1.1:5000')
  assertRefused(t, await attempt(m, 'POST', 'inputs', { name: '', url: 'udp://239.1.1.1:5000' }),
    { status: 409, field: 'name', message: /name 'udp:\/\/239.1.1.1:5000' \(taken from the url because name is empty\) is already used/ })
  assertRefused(t, await attempt(m, 'POST', 'inputs', { name: 'udp://239.1.1.1:5000', url: 'udp://239.1.1.9:5000' }),
    { status: 409, field: 'name', message: /already used/ })
  const long = await create(m, 'inputs', { protocol: 'rtsp', url: `rtsp://10.0.0.1/${'p'.repeat(100)}` })
  t.equal(String(long.name).length, 64, 'a long url is cut to the 64 characters of a name')
  // A PUT with an empty name names the input after its url again (its own name is no clash).
  const res = await call(m.app, m.cookie, 'PUT', `${API}/inputs/input-${a.uuid}`, { name: '' })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().name, 'udp://239.1.1.1:5000')
})

t.test('NIC names come from system/network; outputs also take auto', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  t.equal((await create(m, 'inputs', { name: 'a', url: 'udp://239.1.1.1:5000', network_interface: 'eth1' })).network_interface, 'eth1')
  assertRefused(t, await attempt(m, 'POST', 'inputs', { name: 'b', url: 'udp://239.1.1.1:5000', network_interface: 'eth7' }),
    { status: 400, field: 'network_interface', message: /names NIC 'eth7', which does not exist \(known: eth0, eth1, eth2\)/ })
  assertRefused(t, await attempt(m, 'POST', 'inputs', { name: 'b', url: 'udp://239.1.1.1:5000', network_interface: 'auto' }),
    { status: 400, field: 'network_interface', message: /NIC 'auto'/ })
  assertRefused(t, await attempt(m, 'POST', 'inputs', { name: 'b', protocol: 'rtsp', url: 'rtsp://10.0.0.1/x', network_interface: 'eth1' }),
    { status: 400, field: 'network_interface', message: /^network_interface must be null when protocol is rtsp$/ })
  t.equal((await create(m, 'outputs', { name: 'o', url: 'udp://239.1.1.1:5000' })).network_interface, 'auto')
  t.equal((await create(m, 'outputs', { name: 'p', url: 'udp://239.1.1.2:5000', network_interface: 'eth2' })).network_interface, 'eth2')
  assertRefused(t, await attempt(m, 'POST', 'outputs', { name: 'q', url: 'udp://239.1.1.3:5000', network_interface: 'wlan0' }),
    { status: 400, field: 'network_interface', message: /known: auto, eth0, eth1, eth2/ })
})

t.test('fields of other protocols: null, refused when sent, cleared when the protocol changes', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const rtsp = await create(m, 'inputs', { name: 'cam', protocol: 'rtsp', url: 'rtsp://10.0.0.1/x' })
  t.match(rtsp, { rtsp_transport: 'tcp', srt_port: null, srt_latency: null, ssm_source: null }, 'protocol defaults filled, the rest null')
  const cases: Array<[object, string, RegExp]> = [
    [{ url: 'udp://239.1.1.1:5000', srt_port: 9000 }, 'srt_port', /^srt_port must be null when protocol is ts_udp$/],
    [{ url: 'udp://239.1.1.1:5000', rtsp_transport: 'tcp' }, 'rtsp_transport', /must be null when protocol is ts_udp/],
    [{ protocol: 'rtmp', url: 'rtmp://10.0.0.1/l/x', ssm_source: '10.0.0.2' }, 'ssm_source', /must be null when protocol is rtmp/],
    [{ url: 'udp://10.0.0.1:5000', ssm_source: '10.0.0.2' }, 'ssm_source', /needs a multicast url/],
    [{ url: 'udp://239.1.1.1:5000', ssm_source: 'not-an-ip' }, 'ssm_source', /ipv4/]
  ]
  for (const [body, field, message] of cases) assertRefused(t, await attempt(m, 'POST', 'inputs', { name: 'x', ...body }), { status: 400, field, message })
  const out = await create(m, 'outputs', { name: 'rtsp out', protocol: 'rtsp', url: 'rtsp://10.0.0.1/x' })
  t.equal(out.rtsp_direction, 'push')
  assertRefused(t, await attempt(m, 'POST', 'outputs', { name: 'o', url: 'udp://239.1.1.1:5000', rtsp_direction: 'pull' }),
    { status: 400, field: 'rtsp_direction', message: /must be null when protocol is ts_udp/ })
  assertRefused(t, await attempt(m, 'POST', 'outputs', { name: 'o', url: 'udp://239.1.1.1:5000', srt_overhead: 25 }),
    { status: 400, field: 'srt_overhead', message: /must be null when protocol is ts_udp/ })
  // A protocol change through PUT clears the fields of the old protocol.
  const res = await call(m.app, m.cookie, 'PUT', `${API}/inputs/input-${rtsp.uuid}`, { protocol: 'ts_srt', srt_port: 9001 })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { protocol: 'ts_srt', rtsp_transport: null, srt_mode: 'listener', srt_port: 9001, url: 'srt://0.0.0.0:9001?mode=listener' })
})

t.test('ranges of output settings', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const o = await create(m, 'outputs', { name: 'o', url: 'udp://239.1.1.1:5000' })
  t.match(o, { mtu: 1500, ttl: 64, tos: 184, sap_enabled: false })
  for (const [field, value] of [['mtu', 575], ['mtu', 9001], ['ttl', 0], ['ttl', 256], ['tos', -1], ['tos', 256], ['sap_enabled', 'yes'], ['mtu', '1500']] as const) {
    assertRefused(t, await attempt(m, 'PUT', `outputs/output-${o.uuid}`, { [field]: value }), { status: 400, field, message: new RegExp(`^${field} must`) })
  }
})
