// A fleet of Krakens from one process (issue 18): devices addressed by IP address, by port and by
// host name, each its own device (data, sessions, control routes), its data kept across a restart.
import t from 'tap'
import https from 'node:https'
import path from 'node:path'
import { Agent, request as undiciRequest, type Dispatcher } from 'undici'
import { startFleet, type FleetDeviceHandle, type RunningFleet } from '../src/start-fleet.ts'
import { startEmulator } from '../src/start-emulator.ts'
import { parseShard, planFleet, FleetError } from '../src/fleet/fleet-plan.ts'
import { resolveConfig } from '../src/config.ts'
import type { TapTest } from './helpers/auth.ts'

interface Answer { status: number, json: unknown, headers: Record<string, string | string[] | undefined> }

function agentFor (fleet: RunningFleet): Agent {
  // The fleet's one certificate must name every device's address or name: verify against it.
  return new Agent({ connect: { ca: fleet.certificate }, pipelining: 0 })
}

async function call (dispatcher: Dispatcher, url: string, options: { method?: Dispatcher.HttpMethod, cookie?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.cookie !== undefined) headers.cookie = options.cookie
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await undiciRequest(url, { dispatcher, method: options.method ?? 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? undefined : JSON.parse(text), headers: res.headers }
}

async function login (dispatcher: Dispatcher, device: FleetDeviceHandle): Promise<string> {
  const res = await call(dispatcher, `${device.url}/apis/v2/login`, { method: 'POST', body: { username: 'haiadmin', password: 'krakenapi' } })
  const id = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
  if (res.status !== 204 || id === undefined) throw new Error(`login on ${device.url} answered ${res.status}`)
  return `id=${id}`
}

/** Each device answers with its own identity, at its own URL. */
async function checkIdentities (t: TapTest, fleet: RunningFleet, dispatcher: Dispatcher): Promise<void> {
  const serials = new Set<string>()
  const macs = new Set<string>()
  for (const device of fleet.devices) {
    const cookie = await login(dispatcher, device)
    const info = (await call(dispatcher, `${device.url}/apis/v2/systeminfo`, { cookie })).json as { serial_number: string, hostname: string }
    const network = (await call(dispatcher, `${device.url}/apis/v2/system/network`, { cookie })).json as { nics: Array<{ macAddress: string }> }
    if (info.serial_number !== device.serial || info.hostname !== device.hostname) t.fail(`device ${device.number} at ${device.url} answered as ${info.serial_number} ${info.hostname}`)
    serials.add(info.serial_number)
    for (const nic of network.nics) macs.add(nic.macAddress)
  }
  t.equal(serials.size, fleet.devices.length, 'every device answers with its own serial number, at its own URL')
  t.equal(macs.size, fleet.devices.length * 3, 'no two NICs of the fleet share a MAC address')
}

t.test('50 devices by address: one port, 127.0.1.1 .. 127.0.1.50', async t => {
  const fleet = await startFleet({ devices: 50, deviceAddresses: '127.0.1.1', passwordHash: 'fast', seed: 7 })
  t.teardown(() => fleet.close())
  const dispatcher = agentFor(fleet)
  t.teardown(() => dispatcher.close())
  t.equal(fleet.devices.length, 50)
  t.same(fleet.devices.map(d => d.address), Array.from({ length: 50 }, (_, i) => `127.0.1.${i + 1}`))
  t.equal(new Set(fleet.devices.map(d => d.port)).size, 1, 'all on one port')
  await checkIdentities(t, fleet, dispatcher)

  const listed = await call(dispatcher, `${fleet.devices[9]!.controlUrl}/fleet`)
  t.equal(listed.status, 200)
  const body = listed.json as { total: number, addressing: string, devices: Array<{ url: string, serial: string }> }
  t.equal(body.total, 50)
  t.equal(body.addressing, 'addresses')
  t.same(body.devices.map(d => d.url), fleet.devices.map(d => d.url), 'GET /_emulator/fleet lists every device URL')
})

t.test('20 devices by port; a write on one is invisible on the others; control routes act on their device only', async t => {
  const fleet = await startFleet({ devices: 20, devicePorts: 0, passwordHash: 'fast', clock: 'manual' })
  t.teardown(() => fleet.close())
  const dispatcher = agentFor(fleet)
  t.teardown(() => dispatcher.close())
  t.equal(new Set(fleet.devices.map(d => d.port)).size, 20, 'twenty ports')
  await checkIdentities(t, fleet, dispatcher)

  const [one, two, three] = fleet.devices as [FleetDeviceHandle, FleetDeviceHandle, FleetDeviceHandle]
  const cookies = new Map<number, string>()
  for (const device of fleet.devices) cookies.set(device.number, await login(dispatcher, device))
  const account = { name: 'fleetwriter', role: 'Viewer', password: 'Fleet-Writer-2026!' }
  t.equal((await call(dispatcher, `${two.url}/apis/v2/accounts`, { method: 'POST', cookie: cookies.get(2)!, body: account })).status, 201, 'an account made on device 2')
  for (const device of fleet.devices) {
    const status = (await call(dispatcher, `${device.url}/apis/v2/accounts/fleetwriter`, { cookie: cookies.get(device.number)! })).status
    if (status !== (device.number === 2 ? 200 : 404)) t.fail(`device ${device.number} answered ${status} for the account made on device 2`)
  }
  t.pass('only device 2 has it')
  t.equal((await call(dispatcher, `${one.url}/apis/v2/systeminfo`, { cookie: cookies.get(2)! })).status, 401, "device 2's session is unknown to device 1")

  // The request log: each device logs its own requests.
  t.equal(two.requests({ path: '/apis/v2/accounts/fleetwriter' }).length, 1, "device 2's log has its own GET")
  const logged = await call(dispatcher, `${three.controlUrl}/requests/count?path=/apis/v2/accounts/fleetwriter`)
  t.same(logged.json, { count: 1 }, "device 3's log holds device 3's requests only")

  // The clock: moving device 1's moves no other.
  const clockOf = async (device: FleetDeviceHandle) => ((await call(dispatcher, `${device.controlUrl}/clock`)).json as { now_ms: number }).now_ms
  const [oneBefore, twoBefore] = [await clockOf(one), await clockOf(two)]
  t.equal((await call(dispatcher, `${one.controlUrl}/clock`, { method: 'POST', body: { advance_ms: 3_600_000 } })).status, 200)
  t.equal(await clockOf(two), twoBefore, "device 2's clock did not move")
  t.equal(await clockOf(one), oneBefore + 3_600_000, "device 1's did")
  t.equal((await call(dispatcher, `${one.url}/apis/v2/systeminfo`, { cookie: cookies.get(1)! })).status, 401, "device 1's session expired in that hour (15 min idle timeout)")
  t.equal((await call(dispatcher, `${two.url}/apis/v2/systeminfo`, { cookie: cookies.get(2)! })).status, 200, "device 2's did not")
  cookies.set(1, await login(dispatcher, one))

  // A fault on device 1 strikes device 1 only.
  t.equal((await call(dispatcher, `${one.controlUrl}/faults`, { method: 'POST', body: { match: { method: 'GET', path: '/apis/v2/systeminfo' }, action: { type: 'error', status: 503, message: 'busy' } } })).status, 201)
  t.equal((await call(dispatcher, `${one.url}/apis/v2/systeminfo`, { cookie: cookies.get(1)! })).status, 503, 'device 1 has the fault')
  t.equal((await call(dispatcher, `${three.url}/apis/v2/systeminfo`, { cookie: cookies.get(3)! })).status, 200, 'device 3 has none')

  // A reset of device 2 restores device 2 only: its account is gone, its sessions ended; device 1's fault stays.
  t.equal((await call(dispatcher, `${two.controlUrl}/reset`, { method: 'POST' })).status, 200)
  const relogin = await login(dispatcher, two)
  t.equal((await call(dispatcher, `${two.url}/apis/v2/accounts/fleetwriter`, { cookie: relogin })).status, 404, 'device 2 was reset')
  t.equal((await call(dispatcher, `${three.url}/apis/v2/systeminfo`, { cookie: cookies.get(3)! })).status, 200, "device 3's session survived device 2's reset")
  t.equal((await call(dispatcher, `${one.url}/apis/v2/systeminfo`, { cookie: cookies.get(1)! })).status, 503, "device 1's fault survived it")
  const info = (await call(dispatcher, `${two.url}/apis/v2/systeminfo`, { cookie: relogin })).json as { serial_number: string }
  t.equal(info.serial_number, two.serial, 'a reset keeps the device its identity')

  // The handle's in-process reset acts on its device only too.
  await one.reset()
  t.equal((await call(dispatcher, `${one.url}/apis/v2/systeminfo`, { cookie: await login(dispatcher, one) })).status, 200, "the handle's reset cleared device 1's fault")
  t.equal((await call(dispatcher, `${three.url}/apis/v2/systeminfo`, { cookie: cookies.get(3)! })).status, 200)
})

t.test('the fleet route refuses what every control route refuses', async t => {
  const fleet = await startFleet({ devices: 2, devicePorts: 0, passwordHash: 'fast', controlToken: 'fleet-secret-token' })
  t.teardown(() => fleet.close())
  const dispatcher = agentFor(fleet)
  t.teardown(() => dispatcher.close())
  const url = `${fleet.devices[1]!.controlUrl}/fleet`
  const token = { 'x-kraken-control-token': 'fleet-secret-token' }
  t.equal((await call(dispatcher, url)).status, 401, 'no control token: 401')
  t.equal(((await call(dispatcher, url)).json as { error: { type: string } }).error.type, 'ControlAuthentication')
  t.equal((await call(dispatcher, url, { headers: { 'x-kraken-control-token': 'wrong' } })).status, 401, 'a wrong token: 401')
  t.equal((await call(dispatcher, url, { headers: { ...token, origin: 'https://evil.example' } })).status, 403, 'another origin: 403')
  t.equal((await call(dispatcher, url, { headers: { ...token, 'sec-fetch-site': 'cross-site' } })).status, 403, 'cross-site: 403')
  t.equal((await call(dispatcher, url, { method: 'POST', headers: token, body: {} })).status, 405, 'no other method')
  const cookie = await login(dispatcher, fleet.devices[1]!)
  t.equal((await call(dispatcher, url, { cookie })).status, 401, 'a session is no control token')
  t.equal((await call(dispatcher, url, { headers: token })).status, 200, 'with the token: 200')
  t.equal(fleet.devices[0]!.controlToken, 'fleet-secret-token')
})

function get (url: string, options: { ca: string, servername?: string, host: string }): Promise<{ status: number, json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca: options.ca, ...(options.servername !== undefined && { servername: options.servername }), headers: { host: options.host }, agent: false }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
    })
    req.on('error', reject).end()
  })
}

t.test('10 devices by host name on one address and port: TLS SNI, then Host', async t => {
  const fleet = await startFleet({ devices: 10, deviceHostnames: 'kraken-{i}.lab', passwordHash: 'fast' })
  t.teardown(() => fleet.close())
  const port = fleet.devices[0]!.port
  t.ok(fleet.devices.every(d => d.port === port && d.url === `https://kraken-${d.number}.lab:${port}`), 'one port, one name each')
  const base = `https://127.0.0.1:${port}/_emulator/fleet`
  for (const device of fleet.devices) {
    // SNI names the device (the certificate covers every name).
    const bySni = await get(`https://127.0.0.1:${port}/_emulator/clock`, { ca: fleet.certificate, servername: `kraken-${device.number}.lab`, host: `kraken-${device.number}.lab:${port}` })
    t.equal(bySni.status, 200)
  }
  // Device by SNI: the request log of device 4 sees the request sent with SNI kraken-4.lab.
  // The request log keeps device requests (not control ones): an unauthenticated systeminfo.
  const api = `https://127.0.0.1:${port}/apis/v2/systeminfo`
  t.equal((await get(api, { ca: fleet.certificate, servername: 'kraken-4.lab', host: `kraken-4.lab:${port}` })).status, 401)
  t.equal(fleet.devices[3]!.requests({ path: '/apis/v2/systeminfo' }).length, 1, 'SNI kraken-4.lab reached device 4')
  t.equal(fleet.devices[4]!.requests({ path: '/apis/v2/systeminfo' }).length, 0, 'and not device 5')
  // Without SNI (an IP in the URL), the Host header decides.
  const noSni = await new Promise<number>((resolve, reject) => {
    const req = https.request(api, { rejectUnauthorized: false, servername: '', headers: { host: `KRAKEN-7.lab:${port}` }, agent: false }, res => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject).end()
  })
  t.equal(noSni, 401)
  t.equal(fleet.devices[6]!.requests({ path: '/apis/v2/systeminfo' }).length, 1, 'Host KRAKEN-7.lab reached device 7 (names are case-insensitive)')
  const unknown = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = https.request(base, { rejectUnauthorized: false, servername: '', headers: { host: 'kraken-99.lab' }, agent: false }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject).end()
  })
  t.equal(unknown.status, 421, 'a name no device answers to: 421')
  t.match(JSON.parse(unknown.body), { error: { type: 'NotFound' } }, 'in the envelope')
  // A container's HEALTHCHECK and Kubernetes' probes connect by IP and name no device: health answers.
  const probe = (path: string, host: string) => new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = https.request(`https://127.0.0.1:${port}${path}`, { rejectUnauthorized: false, servername: '', headers: { host }, agent: false }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject).end()
  })
  const health = await probe('/_emulator/health', `10.0.0.7:${port}`)
  t.equal(health.status, 200, 'a probe by IP gets the fleet\'s health')
  t.match(JSON.parse(health.body), { status: 'ok' })
  t.equal((await probe('/_emulator/health?x=1', `10.0.0.7:${port}`)).status, 200, 'with a query too')
  t.equal((await probe('/_emulator/healthz', `10.0.0.7:${port}`)).status, 421, 'only the health route: anything else still needs a device name')
  t.equal((await probe('/apis/v2/systeminfo', `10.0.0.7:${port}`)).status, 421)
})

t.test('a restart keeps every device its data; a device file is a single emulator\'s data file', async t => {
  const dir = t.testdir()
  const options = { devices: 4, devicePorts: 0, passwordHash: 'fast' as const, data: dir }
  let fleet = await startFleet(options)
  let dispatcher = agentFor(fleet)
  for (const device of fleet.devices) {
    const cookie = await login(dispatcher, device)
    const status = (await call(dispatcher, `${device.url}/apis/v2/system/network`, { method: 'PUT', cookie, body: { ntpAddress: `ntp-${device.number}.example` } })).status
    t.equal(status, 200, `device ${device.number} written`)
  }
  await fleet.close()
  await dispatcher.close()

  fleet = await startFleet(options)
  dispatcher = agentFor(fleet)
  t.teardown(async () => { await fleet.close(); await dispatcher.close() })
  for (const device of fleet.devices) {
    const cookie = await login(dispatcher, device)
    const network = (await call(dispatcher, `${device.url}/apis/v2/system/network`, { cookie })).json as { ntpAddress: string, hostname: string }
    t.equal(network.ntpAddress, `ntp-${device.number}.example`, `device ${device.number} kept its write`)
    t.equal(network.hostname, `kraken-${device.number}`)
  }
  await fleet.close()

  const single = await startEmulator({ data: path.join(dir, 'device-3.json') })
  t.teardown(() => single.close())
  t.equal((single.app.kraken.store.singleton('network') as { ntpAddress: string }).ntpAddress, 'ntp-3.example', 'device-3.json opens in a single emulator')
})

t.test('fleet plans: shards, identities, refused options', async t => {
  const config = (over: object) => resolveConfig({ devices: 10, devicePorts: 9001, inMemory: true, ...over })
  t.same(parseShard('2/4', 'x'), { index: 2, count: 4 })
  t.same(parseShard('ordinal/3', 'kraken-2'), { index: 2, count: 3 }, 'ordinal: the number ending the host name')
  for (const bad of ['4/4', 'a/2', '1', '0/0', 'ordinal/3']) t.throws(() => parseShard(bad, 'kraken'), FleetError, `--shard ${bad} refused`)

  const blocks = [0, 1, 2, 3].map(index => planFleet(config({ shard: `${index}/4` })).devices.map(d => d.number))
  t.same(blocks, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]], 'ceil(10/4) = 3 devices a shard, contiguous')
  const whole = planFleet(config({}))
  const third = planFleet(config({ shard: '2/4' }))
  t.same(third.devices.map(d => [d.port, d.identity]), whole.devices.slice(6, 9).map(d => [d.port, d.identity]), 'a device has the same port and identity whichever shard serves it')
  t.not(planFleet(config({ seed: 1 })).devices[0]!.identity.serial, whole.devices[0]!.identity.serial, 'another --seed, other identities')
  t.same(planFleet(config({ seed: 1 })).devices[0]!.identity, planFleet(config({ seed: 1 })).devices[0]!.identity, 'the same --seed, the same identities')
  t.throws(() => planFleet(config({ shard: '3/4', devices: 5 })), FleetError, 'an empty shard is refused')
  t.throws(() => planFleet(resolveConfig({ devices: 3 })), /exactly one of --device-addresses/)
  t.throws(() => planFleet(config({ deviceHostnames: 'kraken-{i}' })), /exactly one/)
  t.throws(() => planFleet(resolveConfig({ devices: 3, deviceHostnames: 'kraken.lab' })), /needs \{i\}/)
  t.throws(() => planFleet(resolveConfig({ devices: 3, deviceAddresses: '127.0.1' })), /IPv4/)
  t.throws(() => planFleet(resolveConfig({ devices: 300, deviceAddresses: '255.255.255.1' })), /past 255.255.255.255/)
  t.throws(() => planFleet(resolveConfig({ devices: 3, devicePorts: 65534 })), /past 65535/)
})

t.test('--fleet file: identities and passwords per device; a bad file is one clear error', async t => {
  const dir = t.testdir({
    'fleet.json': JSON.stringify({ devices: [{ hostname: 'edge-a', serial: 'KR4000-EDGE-A', macAddresses: ['02:aa:00:00:00:01'], passwords: { admin: 'Edge-Admin-Pass-1!' }, license: { max_encoders: 2 } }, { serial: 'KR4000-EDGE-B' }] }),
    'bad.json': JSON.stringify({ devices: [{ serial: 5 }] }),
    'junk.json': 'not json'
  })
  const fleet = await startFleet({ fleet: path.join(dir, 'fleet.json'), devicePorts: 0, passwordHash: 'fast' })
  t.teardown(() => fleet.close())
  const dispatcher = agentFor(fleet)
  t.teardown(() => dispatcher.close())
  const [a, b] = fleet.devices as [FleetDeviceHandle, FleetDeviceHandle]
  t.equal(fleet.devices.length, 2)
  t.equal(a.hostname, 'edge-a')
  t.equal(b.serial, 'KR4000-EDGE-B')
  t.equal((await call(dispatcher, `${a.url}/apis/v2/login`, { method: 'POST', body: { username: 'haiadmin', password: 'krakenapi' } })).status, 401, "device a's own password is in force")
  const res = await call(dispatcher, `${a.url}/apis/v2/login`, { method: 'POST', body: { username: 'haiadmin', password: 'Edge-Admin-Pass-1!' } })
  t.equal(res.status, 204)
  const cookie = `id=${([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)}`
  const license = (await call(dispatcher, `${a.url}/apis/v2/license`, { cookie })).json as Record<string, unknown>
  t.match(license, { max_encoders: 2, license_mac_address: '02:aa:00:00:00:01' })
  await t.rejects(startFleet({ fleet: path.join(dir, 'bad.json'), devicePorts: 0 }), /devices\.0\.serial/)
  await t.rejects(startFleet({ fleet: path.join(dir, 'junk.json'), devicePorts: 0 }), FleetError)
  await t.rejects(startFleet({ fleet: path.join(dir, 'missing.json'), devicePorts: 0 }), /ENOENT/)
})
