// The system endpoints (kraken-api.md section 7): systeminfo, network, license, metric snapshot
// and services, with their rules, their persistence and the system singletons of the fixtures.
import t from 'tap'
import { writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { KrakenApp } from '../src/app.ts'
import { ManualClock } from '../src/kernel/clock.ts'
import { loadFixture } from '../src/fixtures.ts'
import { dbFromFixture } from '../src/fixtures.ts'
import { checkSystemSingletons } from '../src/system/index.ts'
import { makeApp, login, call, envelopeOf, USERS } from './helpers/app.ts'

const API = '/apis/v2'
const TWO_DECIMALS = /^\d+\.\d{2}$/

type Nic = Record<string, unknown> & { name: string }
type Network = Record<string, unknown> & { nics: Nic[] }

async function setup (config = {}, clock?: ManualClock): Promise<{ app: KrakenApp, admin: string }> {
  const app = await makeApp(config, clock === undefined ? {} : { clock })
  return { app, admin: await login(app) }
}

async function getJson<T = Record<string, unknown>> (app: KrakenApp, cookie: string, url: string): Promise<T> {
  const res = await call(app, cookie, 'GET', url)
  if (res.statusCode !== 200) throw new Error(`GET ${url} -> ${res.statusCode} ${res.body}`)
  return res.json() as T
}

t.test('systeminfo: identity from the fixture, time and uptime from the clock, hostname from the network', async t => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0, 700))
  const { app, admin } = await setup({}, clock)
  t.teardown(() => app.close())
  const info = await getJson(app, admin, `${API}/systeminfo`)
  t.same(Object.keys(info), ['result', 'version', 'currenttime', 'uptime', 'hostname', 'model', 'part_number', 'serial_number'])
  t.same(info, {
    result: true,
    version: '4.2.1.14',
    currenttime: Date.UTC(2026, 2, 1, 12, 0, 0) / 1000,
    uptime: 0,
    hostname: 'kraken-kit-01',
    model: 'Kraken',
    part_number: 'KRA-SVR-4000',
    serial_number: 'KR4000-2403-0157'
  })
  clock.advance(90_500)
  const later = await getJson(app, admin, `${API}/systeminfo`)
  t.equal(later.uptime, 90, 'whole seconds since start')
  t.equal(later.currenttime, Date.UTC(2026, 2, 1, 12, 1, 31) / 1000, 'epoch seconds, not milliseconds')

  const viewer = await login(app, USERS.Viewer)
  t.equal((await call(app, viewer, 'GET', `${API}/systeminfo`)).statusCode, 200, 'every role reads it')
})

t.test('network: every key, and a GET-edit-PUT round trip changes nothing', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const network = await getJson<Network>(app, admin, `${API}/system/network`)
  t.same(Object.keys(network), ['hostname', 'ipForward', 'ntpAddress', 'dnsServer-0', 'dnsServer-1', 'defaultInterface', 'nics'])
  t.same(network.nics.map(n => n.name), ['eth0', 'eth1', 'eth2'])
  for (const nic of network.nics) {
    t.same(Object.keys(nic), ['name', 'addressing', 'ipAddress', 'subnetMask', 'gateway', 'macAddress', 'mtu', 'speed', 'peerDns'], nic.name)
  }
  t.match(network.nics[0], { addressing: 'static', ipAddress: '10.10.0.20' }, 'eth0 is the management NIC')
  t.match(network.nics[2], { speed: 0, ipAddress: '' }, 'eth2 is unplugged')

  const round = await call(app, admin, 'PUT', `${API}/system/network`, network)
  t.equal(round.statusCode, 200, round.body)
  t.same(round.json(), network)
})

t.test('network: PUT merges, ignores read-only NIC fields, persists and renames the host', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const res = await call(app, admin, 'PUT', `${API}/system/network`, {
    hostname: 'kit-02',
    'dnsServer-1': '9.9.9.9',
    nics: [{ name: 'eth1', ipAddress: '192.168.60.5', gateway: '192.168.60.1', macAddress: 'ff:ff:ff:ff:ff:ff', speed: 1 }]
  })
  t.equal(res.statusCode, 200, res.body)
  const network = await getJson<Network>(app, admin, `${API}/system/network`)
  t.same(network, res.json(), 'GET shows what PUT answered')
  t.match(network, { hostname: 'kit-02', 'dnsServer-0': '10.10.0.1', 'dnsServer-1': '9.9.9.9', defaultInterface: 'eth0' })
  t.match(network.nics[1], { name: 'eth1', ipAddress: '192.168.60.5', subnetMask: '255.255.255.0', gateway: '192.168.60.1', macAddress: '02:4b:52:24:03:a1', speed: 10000 })
  t.match(network.nics[0], { ipAddress: '10.10.0.20' }, 'NICs not sent keep their settings')
  t.equal((await getJson(app, admin, `${API}/systeminfo`)).hostname, 'kit-02', 'systeminfo follows the hostname')

  const dhcp = await call(app, admin, 'PUT', `${API}/system/network`, { nics: [{ name: 'eth0', addressing: 'dhcp', ipAddress: '', subnetMask: '', gateway: '' }], defaultInterface: 'eth1' })
  t.equal(dhcp.statusCode, 200, 'a NIC may switch to DHCP without an address')

  await app.kraken.reset()
  t.equal((await getJson(app, await login(app), `${API}/system/network`)).hostname, 'kraken-kit-01', 'a reset restores the fixture')
})

t.test('network: PUT refuses invalid settings, naming the field, and changes nothing', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const before = JSON.stringify(app.kraken.store.snapshot().singletons)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['bad IPv4', { nics: [{ name: 'eth1', ipAddress: '300.1.1.1' }] }, 'nics.0.ipAddress'],
    ['not an address', { 'dnsServer-0': 'dns.example' }, 'dnsServer-0'],
    ['non-contiguous mask', { nics: [{ name: 'eth1', subnetMask: '255.0.255.0' }] }, 'nics.0.subnetMask'],
    ['gateway outside the subnet', { nics: [{ name: 'eth1', gateway: '10.0.0.1' }] }, 'nics.0.gateway'],
    ['gateway is the NIC', { nics: [{ name: 'eth1', gateway: '192.168.50.20' }] }, 'nics.0.gateway'],
    ['network address', { nics: [{ name: 'eth1', ipAddress: '192.168.50.0' }] }, 'nics.0.ipAddress'],
    ['broadcast address', { nics: [{ name: 'eth1', ipAddress: '192.168.50.255' }] }, 'nics.0.ipAddress'],
    ['multicast address', { nics: [{ name: 'eth1', ipAddress: '239.1.1.1', subnetMask: '255.0.0.0' }] }, 'nics.0.ipAddress'],
    ['static without address', { nics: [{ name: 'eth2', addressing: 'static' }] }, 'nics.0.ipAddress'],
    ['static without mask', { nics: [{ name: 'eth2', addressing: 'static', ipAddress: '172.16.0.2' }] }, 'nics.0.subnetMask'],
    ['address used by another NIC', { nics: [{ name: 'eth2', addressing: 'static', ipAddress: '10.10.0.20', subnetMask: '255.255.255.0' }] }, 'nics.0.ipAddress'],
    ['second NIC in the body', { nics: [{ name: 'eth0' }, { name: 'eth1', gateway: '1.2.3.4' }] }, 'nics.1.gateway'],
    ['unknown addressing', { nics: [{ name: 'eth1', addressing: 'bootp' }] }, 'nics.0.addressing'],
    ['mtu too small', { nics: [{ name: 'eth1', mtu: 100 }] }, 'nics.0.mtu'],
    ['a new NIC', { nics: [{ name: 'eth9', addressing: 'dhcp' }] }, 'nics.0.name'],
    ['a NIC twice', { nics: [{ name: 'eth1' }, { name: 'eth1' }] }, 'nics.1.name'],
    ['unknown default interface', { defaultInterface: 'wlan0' }, 'defaultInterface'],
    ['bad hostname', { hostname: 'not a host' }, 'hostname'],
    ['ipForward as a string', { ipForward: 'yes' }, 'ipForward'],
    ['unknown field', { gateway: '10.10.0.1' }, 'gateway'],
    ['unknown NIC field', { nics: [{ name: 'eth1', vlan: 5 }] }, 'nics.0.vlan']
  ]
  for (const [label, body, field] of cases) {
    const res = await call(app, admin, 'PUT', `${API}/system/network`, body)
    t.equal(res.statusCode, 400, label)
    t.equal(envelopeOf(res).type, 'Validation', label)
    t.ok(envelopeOf(res).details.some(d => d.field === field), `${label}: names ${field} (${res.body})`)
  }
  t.equal(JSON.stringify(app.kraken.store.snapshot().singletons), before, 'nothing changed')

  for (const user of [USERS.Operator, USERS.Viewer]) {
    const cookie = await login(app, user)
    t.equal((await call(app, cookie, 'GET', `${API}/system/network`)).statusCode, 200, `${user} reads`)
    const res = await call(app, cookie, 'PUT', `${API}/system/network`, { hostname: 'mine' })
    t.equal(res.statusCode, 403, `${user} may not change`)
    t.equal(envelopeOf(res).type, 'SessionAuthorization')
  }
})

t.test('network and services changes are durable: they survive a restart', async t => {
  const dir = t.testdir()
  const data = path.join(dir, 'kraken.json')
  const first = await makeApp({ inMemory: false, data })
  const cookie = await login(first)
  t.equal((await call(first, cookie, 'PUT', `${API}/system/network`, { hostname: 'durable' })).statusCode, 200)
  t.equal((await call(first, cookie, 'PUT', `${API}/system/services/rtspserver`, { rtsp_port: 8554 })).statusCode, 200)
  await first.close()

  const second = await makeApp({ inMemory: false, data })
  t.teardown(() => second.close())
  const again = await login(second)
  t.equal((await getJson(second, again, `${API}/system/network`)).hostname, 'durable')
  t.equal((await getJson(second, again, `${API}/system/services/rtspserver`)).rtsp_port, 8554)
})

t.test('license: every key, live session counts, validity follows the expiration', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  app.kraken.runtime = { ...app.kraken.runtime, counts: () => ({ transcoder: 3, bypass: 2 }) }
  const license = await getJson(app, admin, `${API}/license`)
  t.same(Object.keys(license), ['active_bypass_sessions', 'active_transcoder_sessions', 'max_encoders', 'is_license_valid', 'creation_date',
    'expiration', 'license_mac_address', 'system_instance_uuid', 'version_limit', 'version_limit_text', 'features'])
  t.match(license, {
    active_bypass_sessions: 2,
    active_transcoder_sessions: 3,
    max_encoders: 4,
    is_license_valid: true,
    creation_date: 1710115200,
    expiration: 2025734400,
    license_mac_address: '02:4b:52:24:03:a0',
    system_instance_uuid: /^[0-9a-f-]{36}$/,
    version_limit: String,
    version_limit_text: String,
    features: ['Recording', 'KLV']
  })
  const viewer = await login(app, USERS.Viewer)
  t.equal((await call(app, viewer, 'GET', `${API}/license`)).statusCode, 200, 'every role reads it')
  // Only a signed licence file changes it (test/licence.test.ts), not its fields.
  t.equal((await call(app, admin, 'PUT', `${API}/license`, { max_encoders: 99 })).statusCode, 400, 'the licence cannot be edited')

  const clock = new ManualClock(Date.UTC(2034, 2, 12) - 1000)
  const late = await setup({}, clock)
  t.teardown(() => late.app.close())
  t.equal((await getJson(late.app, late.admin, `${API}/license`)).is_license_valid, true, 'valid until the expiration')
  clock.advance(1000)
  t.equal((await getJson(late.app, late.admin, `${API}/license`)).is_license_valid, false, 'invalid from the expiration on')
})

t.test('metric snapshot: two-decimal strings that follow the runtime load; load averages lag', async t => {
  const clock = new ManualClock()
  const { app, admin } = await setup({}, clock)
  t.teardown(() => app.close())
  let load = { cpuPercent: 10, memoryPercent: 35.844, receivedMbps: 0, sentMbps: 0 }
  app.kraken.runtime = { ...app.kraken.runtime, load: () => load }
  clock.advance(61_000)
  const idle = await getJson<Record<string, Record<string, unknown>>>(app, admin, `${API}/system/metric/snapshot`)
  t.same(Object.keys(idle), ['system', 'memory', 'cpu', 'loadAvg', 'network'])
  t.same(idle, {
    system: { uptime: 61 },
    memory: { usedPercent: '35.84' },
    cpu: { loadPercent: '10.00' },
    loadAvg: { '1m': '0.80', '5m': '0.80', '15m': '0.80' },
    network: { receivedMbps: '0.00', sentMbps: '0.00' }
  })

  load = { cpuPercent: 75.5, memoryPercent: 41.2, receivedMbps: 18.25, sentMbps: 36.5 }
  clock.advance(60_000)
  const busy = await getJson<Record<string, Record<string, string>>>(app, admin, `${API}/system/metric/snapshot`)
  t.same(busy.cpu, { loadPercent: '75.50' })
  t.same(busy.network, { receivedMbps: '18.25', sentMbps: '36.50' })
  for (const key of ['1m', '5m', '15m']) t.match(busy.loadAvg?.[key], TWO_DECIMALS, key)
  const [m1, m5, m15] = ['1m', '5m', '15m'].map(k => Number(busy.loadAvg?.[k]))
  t.ok(m1! > m5! && m5! > m15! && m15! > 0.8, `the 1-minute average rises first (${m1}, ${m5}, ${m15})`)
  t.ok(m1! < 8 * 0.755, 'and has not yet reached the new load')

  load = { cpuPercent: 250, memoryPercent: -3, receivedMbps: Number.NaN, sentMbps: 1 }
  const clamped = await getJson<Record<string, Record<string, string>>>(app, admin, `${API}/system/metric/snapshot`)
  t.same([clamped.cpu?.loadPercent, clamped.memory?.usedPercent, clamped.network?.receivedMbps], ['100.00', '0.00', '0.00'], 'nonsense from the runtime stays plausible')
})

t.test('services: the list, each service, and their rules', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const list = await getJson<{ service_list: Array<Record<string, unknown>> }>(app, admin, `${API}/system/services`)
  t.same(list.service_list.map(s => s.name), ['sdi', 'gige', 'ndi', 'st2110', 'analog', 'rtspserver', 'ssh', 'recording', 'webserver'])
  for (const s of list.service_list) {
    t.same(Object.keys(s), ['name', 'enabled', 'status'], String(s.name))
    t.equal(s.status, s.enabled === true ? 'running' : 'stopped', `${String(s.name)}: status follows enabled`)
  }
  t.same(await getJson(app, admin, `${API}/system/services/rtspserver`), { name: 'rtspserver', enabled: true, status: 'running', rtsp_port: 554 })
  t.same(await getJson(app, admin, `${API}/system/services/webserver`), { name: 'webserver', enabled: true, status: 'running', data: { listeners: { interfaces: ['eth0', 'eth1'] } } })
  t.same(await getJson(app, admin, `${API}/system/services/sdi`), { name: 'sdi', enabled: false, status: 'stopped' })
  t.equal((await call(app, admin, 'GET', `${API}/system/services/telnet`)).statusCode, 404)
  t.equal((await call(app, admin, 'PUT', `${API}/system/services/telnet`, { enabled: true })).statusCode, 404)

  const sdi = await call(app, admin, 'PUT', `${API}/system/services/sdi`, { name: 'sdi', enabled: true, status: 'stopped' })
  t.same(sdi.json(), { name: 'sdi', enabled: true, status: 'running' }, 'name may be sent, status is ignored')
  t.equal((await getJson<{ service_list: Array<Record<string, unknown>> }>(app, admin, `${API}/system/services`)).service_list[0]?.status, 'running')

  const port = await call(app, admin, 'PUT', `${API}/system/services/rtspserver`, { rtsp_port: 8554 })
  t.same(port.json(), { name: 'rtspserver', enabled: true, status: 'running', rtsp_port: 8554 })
  const web = await call(app, admin, 'PUT', `${API}/system/services/webserver`, { data: { listeners: { interfaces: ['eth2'] } } })
  t.equal(web.statusCode, 200)
  t.same((await getJson(app, admin, `${API}/system/services/webserver`)).data, { listeners: { interfaces: ['eth2'] } })

  const before = JSON.stringify(app.kraken.store.snapshot().singletons)
  const refusals: Array<[string, string, Record<string, unknown>, number, string]> = [
    ['disable the webserver', 'webserver', { enabled: false }, 409, 'enabled'],
    ['RTSP on the HTTPS port', 'rtspserver', { rtsp_port: 443 }, 409, 'rtsp_port'],
    ['RTSP on the SSH port', 'rtspserver', { rtsp_port: 22 }, 409, 'rtsp_port'],
    ['port out of range', 'rtspserver', { rtsp_port: 70000 }, 400, 'rtsp_port'],
    ['rtsp_port elsewhere', 'ssh', { rtsp_port: 2554 }, 400, 'rtsp_port'],
    ['unknown NIC', 'webserver', { data: { listeners: { interfaces: ['eth0', 'wlan0'] } } }, 400, 'data.listeners.interfaces.1'],
    ['no NIC at all', 'webserver', { data: { listeners: { interfaces: [] } } }, 400, 'data.listeners.interfaces'],
    ['another name', 'ssh', { name: 'sdi', enabled: true }, 400, 'name'],
    ['enabled as a string', 'ssh', { enabled: 'yes' }, 400, 'enabled']
  ]
  for (const [label, name, body, status, field] of refusals) {
    const res = await call(app, admin, 'PUT', `${API}/system/services/${name}`, body)
    t.equal(res.statusCode, status, label)
    t.ok(envelopeOf(res).details.some(d => d.field === field), `${label}: names ${field} (${res.body})`)
  }
  t.equal(JSON.stringify(app.kraken.store.snapshot().singletons), before, 'nothing changed')

  const operator = await login(app, USERS.Operator)
  t.equal((await call(app, operator, 'GET', `${API}/system/services/ssh`)).statusCode, 200)
  t.equal((await call(app, operator, 'PUT', `${API}/system/services/ssh`, { enabled: false })).statusCode, 403)
})

t.test('fixtures: the system singletons are valid and consistent', async t => {
  for (const name of ['default', 'empty']) {
    const db = dbFromFixture(loadFixture(name), [])
    t.doesNotThrow(() => checkSystemSingletons(db), name)
    const network = db.singletons.network as Network
    t.same(network.nics.map(n => n.name), ['eth0', 'eth1', 'eth2'], `${name}: three NICs`)
    t.equal(network.nics[2]?.speed, 0, `${name}: eth2 is unplugged`)
    t.equal(db.singletons.license?.license_mac_address, network.nics[0]?.macAddress, `${name}: the licence is bound to eth0`)
    t.equal(db.singletons.license?.max_encoders, 4, `${name}: a handful of transcoding sessions`)
    t.same(Object.keys(db.singletons).sort(), ['license', 'network', 'services', 'systeminfo'], `${name}: every system singleton`)
  }
  const db = dbFromFixture(loadFixture('default'), [])
  const broken = structuredClone(db)
  ;(broken.singletons.network as Network).defaultInterface = 'eth7'
  t.throws(() => checkSystemSingletons(broken), /defaultInterface/, 'the check catches a broken rule')
  const badType = structuredClone(db)
  ;(badType.singletons.license as Record<string, unknown>).max_encoders = 'four'
  t.throws(() => checkSystemSingletons(badType), /license.*max_encoders/, 'the check catches a bad type')
  const strayNic = structuredClone(db)
  ;(strayNic.singletons.services as { webserver: { data: { listeners: { interfaces: string[] } } } }).webserver.data.listeners.interfaces = ['eth5']
  t.throws(() => checkSystemSingletons(strayNic), /eth5/, 'the check catches a webserver on no NIC')
})

t.test('a fixture without system singletons answers with the factory values', async t => {
  const dir = t.testdir()
  const fixture = path.join(dir, 'bare')
  mkdirSync(fixture)
  writeFileSync(path.join(fixture, 'fixture.json'), JSON.stringify({ description: 'no singletons' }))
  const bare = await setup({ fixture })
  const empty = await setup({ fixture: 'empty' })
  t.teardown(async () => { await bare.app.close(); await empty.app.close() })
  for (const url of ['/system/network', '/license', '/system/services', '/system/services/rtspserver', '/system/services/webserver']) {
    t.same(await getJson(bare.app, bare.admin, API + url), await getJson(empty.app, empty.admin, API + url), url)
  }
  const info = await getJson(bare.app, bare.admin, `${API}/systeminfo`)
  t.match(info, { result: true, version: '4.2.1.14', hostname: 'kraken', model: 'Kraken', part_number: String, serial_number: String })
})
