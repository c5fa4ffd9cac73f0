// The walk a field monitoring client makes over real HTTPS (kraken-api.md sections 5 and 7):
// login, systeminfo, system/network, license, streams and, for each stream, its input,
// passthru output, transcoder and outputs by the bare-uuid path, metadata, the metric snapshot,
// the RTSP and web servers, logout. Every key must be present and typed as the contract says,
// since such clients crash on a missing key [field].
import t from 'tap'
import { startHttps, loginHttps, send, type HttpResult } from './helpers/https.ts'
import { UUID_V4, type TapTest } from './helpers/auth.ts'

const API = '/apis/v2'
const TWO_DECIMALS = /^\d+\.\d{2}$/

/** A key's expected type: a JSON type name, a union of them ('string|null'), an enum, or a pattern. */
type Expect = 'string' | 'integer' | 'boolean' | 'array' | 'object' | 'string|null' | 'uuid' | 'uuid|null' | 'uuid[]' | readonly string[] | RegExp
type Shape = Record<string, Expect>

function problemOf (value: unknown, expect: Expect): string | undefined {
  if (expect instanceof RegExp) return typeof value === 'string' && expect.test(value) ? undefined : `should match ${String(expect)}`
  if (Array.isArray(expect)) return expect.includes(value as string) ? undefined : `should be one of ${expect.join(', ')}`
  switch (expect) {
    case 'string': return typeof value === 'string' ? undefined : 'should be a string'
    case 'integer': return Number.isInteger(value) ? undefined : 'should be an integer'
    case 'boolean': return typeof value === 'boolean' ? undefined : 'should be a boolean'
    case 'array': return Array.isArray(value) ? undefined : 'should be an array'
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'should be an object'
    case 'string|null': return value === null || typeof value === 'string' ? undefined : 'should be a string or null'
    case 'uuid': return typeof value === 'string' && UUID_V4.test(value) ? undefined : 'should be a UUID v4'
    case 'uuid|null': return value === null || (typeof value === 'string' && UUID_V4.test(value)) ? undefined : 'should be a UUID v4 or null'
    case 'uuid[]': return Array.isArray(value) && value.every(v => typeof v === 'string' && UUID_V4.test(v)) ? undefined : 'should be an array of UUIDs'
  }
  return 'unknown expectation'
}

/** One assertion per key: present and of the right type. */
function checkShape (t: TapTest, label: string, value: unknown, shape: Shape): void {
  const object = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  for (const [key, expect] of Object.entries(shape)) {
    const problem = key in object ? problemOf(object[key], expect) : 'is missing'
    t.equal(problem, undefined, `${label}.${key} ${problem ?? 'is present and typed'}`)
  }
}

async function getOk (t: TapTest, emu: Parameters<typeof send>[0], cookie: string, path: string): Promise<Record<string, unknown>> {
  const res: HttpResult = await send(emu, 'GET', path, { cookie })
  t.equal(res.status, 200, `GET ${path}`)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `GET ${path}: the content type field clients require`)
  return res.json() as Record<string, unknown>
}

const SYSTEMINFO: Shape = { result: 'boolean', version: 'string', currenttime: 'integer', uptime: 'integer', hostname: 'string', model: 'string', part_number: 'string', serial_number: 'string' }
const NETWORK: Shape = { hostname: 'string', ipForward: 'boolean', ntpAddress: 'string', 'dnsServer-0': 'string', 'dnsServer-1': 'string', defaultInterface: 'string', nics: 'array' }
const NIC: Shape = { name: 'string', addressing: ['static', 'dhcp'], ipAddress: 'string', subnetMask: 'string', gateway: 'string', macAddress: 'string', mtu: 'integer', speed: 'integer', peerDns: 'boolean' }
const LICENSE: Shape = {
  active_bypass_sessions: 'integer', active_transcoder_sessions: 'integer', max_encoders: 'integer', is_license_valid: 'boolean', creation_date: 'integer',
  expiration: 'integer', license_mac_address: 'string', system_instance_uuid: 'string', version_limit: 'string', version_limit_text: 'string'
}
const STREAM_SUMMARY: Shape = {
  uuid: 'uuid', name: 'string', mode: ['transcoder', 'passthru', 'iorouter'], input: 'uuid', transcoder: 'uuid|null', passthru_uuid: 'uuid|null',
  outputs: 'uuid[]', metadatas: 'uuid[]', auto_start: 'boolean', status: ['stopped', 'starting', 'running', 'stopping', 'error']
}
const STREAM: Shape = { ...STREAM_SUMMARY, sub_status: 'string', description: 'string', log_to_file: 'boolean' }
const INPUT: Shape = { uuid: 'uuid', name: 'string', protocol: ['ts_udp', 'ts_srt', 'rtsp', 'rtmp', 'mjpeg'], url: 'string' }
const OUTPUT: Shape = { uuid: 'uuid', name: 'string', protocol: ['ts_udp', 'ts_srt', 'ts_tcp', 'rtmp', 'rtsp', 'hls', 'ts_segment_archive'], url: 'string' }
const TRANSCODER: Shape = { uuid: 'uuid', name: 'string', format: ['h264', 'hevc'], video_bitrate: 'integer', width: 'integer', height: 'integer' }
const METADATA: Shape = { uuid: 'uuid', name: 'string', input_method: ['video_source', 'network'], data_format: ['klv', 'cot'] }

t.test('a monitoring client walks the default device over HTTPS', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)

  const info = await getOk(t, emu, cookie, `${API}/systeminfo`)
  checkShape(t, 'systeminfo', info, SYSTEMINFO)
  t.equal(info.result, true)
  t.ok(Math.abs(Number(info.currenttime) - Date.now() / 1000) < 600, 'currenttime is epoch seconds, now')

  const network = await getOk(t, emu, cookie, `${API}/system/network`)
  checkShape(t, 'network', network, NETWORK)
  const nics = network.nics as unknown[]
  t.ok(nics.length > 0, 'the device has NICs')
  for (const [i, nic] of nics.entries()) checkShape(t, `network.nics[${i}]`, nic, NIC)

  checkShape(t, 'license', await getOk(t, emu, cookie, `${API}/license`), LICENSE)

  const streams = (await getOk(t, emu, cookie, `${API}/streams`)).stream_list as Array<Record<string, unknown>>
  t.ok(Array.isArray(streams) && streams.length > 0, 'stream_list lists the fixture\'s streams')
  for (const stream of streams ?? []) {
    const name = `stream ${String(stream.name)}`
    checkShape(t, `${name} (list)`, stream, STREAM_SUMMARY)
    checkShape(t, name, await getOk(t, emu, cookie, `${API}/streams/${String(stream.uuid)}`), STREAM)
    const input = await getOk(t, emu, cookie, `${API}/inputs/${String(stream.input)}`)
    checkShape(t, `${name} input`, input, INPUT)
    t.equal(input.uuid, stream.input, `${name}: the bare-uuid path answers the input itself`)
    if (stream.passthru_uuid !== null) {
      checkShape(t, `${name} passthru`, await getOk(t, emu, cookie, `${API}/outputs/${String(stream.passthru_uuid)}`), OUTPUT)
    }
    if (stream.transcoder !== null) {
      checkShape(t, `${name} transcoder`, await getOk(t, emu, cookie, `${API}/transcoders/${String(stream.transcoder)}`), TRANSCODER)
    }
    for (const output of (stream.outputs as string[] | undefined) ?? []) {
      const item = await getOk(t, emu, cookie, `${API}/outputs/${output}`)
      checkShape(t, `${name} output`, item, OUTPUT)
      t.equal(item.uuid, output)
    }
  }

  const metadata = (await getOk(t, emu, cookie, `${API}/metadata`)).metadata_list as unknown[]
  t.ok(Array.isArray(metadata), 'metadata_list')
  for (const [i, item] of (metadata ?? []).entries()) checkShape(t, `metadata_list[${i}]`, item, METADATA)

  const snapshot = await getOk(t, emu, cookie, `${API}/system/metric/snapshot`)
  checkShape(t, 'snapshot', snapshot, { system: 'object', memory: 'object', cpu: 'object', loadAvg: 'object', network: 'object' })
  checkShape(t, 'snapshot.system', snapshot.system, { uptime: 'integer' })
  checkShape(t, 'snapshot.memory', snapshot.memory, { usedPercent: TWO_DECIMALS })
  checkShape(t, 'snapshot.cpu', snapshot.cpu, { loadPercent: TWO_DECIMALS })
  checkShape(t, 'snapshot.loadAvg', snapshot.loadAvg, { '1m': TWO_DECIMALS, '5m': TWO_DECIMALS, '15m': TWO_DECIMALS })
  checkShape(t, 'snapshot.network', snapshot.network, { receivedMbps: TWO_DECIMALS, sentMbps: TWO_DECIMALS })

  const rtsp = await getOk(t, emu, cookie, `${API}/system/services/rtspserver`)
  checkShape(t, 'rtspserver', rtsp, { name: ['rtspserver'], enabled: 'boolean', status: 'string', rtsp_port: 'integer' })
  const web = await getOk(t, emu, cookie, `${API}/system/services/webserver`)
  checkShape(t, 'webserver', web, { name: ['webserver'], enabled: 'boolean', status: 'string', data: 'object' })
  const interfaces = ((web.data as { listeners?: { interfaces?: unknown } } | undefined)?.listeners?.interfaces) as unknown[] | undefined
  t.ok(Array.isArray(interfaces) && interfaces.every(i => typeof i === 'string'), 'webserver.data.listeners.interfaces is a list of NIC names')
  const nicNames = nics.map(n => (n as { name: string }).name)
  t.ok(interfaces?.every(i => nicNames.includes(i as string)), 'and each names a NIC of system/network')

  const logout = await send(emu, 'GET', `${API}/logout`, { cookie })
  t.equal(logout.status, 204)
  t.equal((await send(emu, 'GET', `${API}/systeminfo`, { cookie })).status, 401, 'the session is gone')
})
