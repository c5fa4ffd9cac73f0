// Certificates per device from the fleet file (issue 18: "One certificate covers the fleet ...
// unless the fleet file gives certificates per device"): a device with its own presents it, by
// listener in port mode and by SNI in hostname mode; the others present the fleet's; bad files
// stop the start with one line.
import t from 'tap'
import https from 'node:https'
import tls from 'node:tls'
import path from 'node:path'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { startFleet } from '../src/start-fleet.ts'
import { FleetError } from '../src/fleet/fleet-plan.ts'
import { runCli } from './helpers/cli.ts'
import { makePair } from './helpers/cert-pair.ts'

/** A pair (independent of the code under test) written as `<name>.crt`/`<name>.key` in `dir`, naming `san`. */
async function pairFiles (dir: string, name: string, san: string): Promise<{ cert: string, fingerprint: string }> {
  const pair = await makePair({ cn: name, days: 30, sans: [san] })
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, `${name}.crt`), pair.cert)
  writeFileSync(path.join(dir, `${name}.key`), pair.key)
  return pair
}

/** The fingerprint of the certificate a TLS server presents (SNI only when `servername` is given). */
function presented (port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername !== undefined && { servername }) }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fingerprint)
    })
    socket.once('error', reject)
  })
}

t.test('by port: a device with its own certificate presents it, the others the fleet\'s', async t => {
  const dir = t.testdir({ certs: {} })
  const one = await pairFiles(path.join(dir, 'certs'), 'one', '127.0.0.1')
  const three = await pairFiles(path.join(dir, 'certs'), 'three', '127.0.0.1')
  // Relative paths are read from the fleet file's directory; device 1 is the one the app's own server listens for.
  writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ devices: [{ cert: 'certs/one.crt', key: 'certs/one.key' }, {}, { cert: path.join(dir, 'certs/three.crt'), key: path.join(dir, 'certs/three.key') }] }))
  const fleet = await startFleet({ fleet: path.join(dir, 'fleet.json'), devicePorts: 0, passwordHash: 'fast', logLevel: 'silent' })
  let closed = false
  t.teardown(() => closed ? undefined : fleet.close())
  const [a, b, c] = fleet.devices as [typeof fleet.devices[0], typeof fleet.devices[0], typeof fleet.devices[0]]
  t.not(one.fingerprint, fleet.fingerprint)
  t.equal(await presented(a.port), one.fingerprint, 'device 1 presents its own certificate')
  t.equal(await presented(b.port), fleet.fingerprint, 'device 2 presents the fleet\'s')
  t.equal(await presented(c.port), three.fingerprint, 'device 3 presents its own certificate')
  t.same([a.fingerprint, b.fingerprint, c.fingerprint], [one.fingerprint, fleet.fingerprint, three.fingerprint], 'the handles say which')

  // Verified against its own certificate only, device 3 answers as device 3.
  const agent = new Agent({ connect: { ca: three.cert } })
  t.teardown(() => agent.close())
  const res = await request(`${c.url}/apis/v2/login`, { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' }) })
  await res.body.text()
  t.equal(res.statusCode, 204, 'a client that trusts only device 3\'s certificate logs in to it')
  const cookie = `id=${([] as string[]).concat(res.headers['set-cookie'] ?? []).map(v => /^id=([^;]+)/.exec(v)?.[1]).find(Boolean)}`
  const info = await request(`${c.url}/apis/v2/systeminfo`, { dispatcher: agent, headers: { cookie } })
  const body = await info.body.text()
  t.equal(info.statusCode, 200, body)
  t.equal((JSON.parse(body) as { serial_number: string }).serial_number, c.serial, 'and it answers as device 3')
  await t.rejects(request(`${b.url}/apis/v2/systeminfo`, { dispatcher: agent }), 'device 2\'s certificate is not device 3\'s')

  // A keep-alive connection to a device with its own server does not hold the close up.
  await fleet.close()
  closed = true
  t.pass('the fleet closes with a connection open to device 3')
})

t.test('by host name: SNI picks the device\'s own certificate, else the fleet\'s', async t => {
  const dir = t.testdir({})
  const two = await pairFiles(dir, 'two', 'kraken-2.test')
  writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ devices: [{}, { cert: 'two.crt', key: 'two.key' }, {}] }))
  const fleet = await startFleet({ fleet: path.join(dir, 'fleet.json'), deviceHostnames: 'kraken-{i}.test', host: '127.0.0.1', port: 0, passwordHash: 'fast', logLevel: 'silent' })
  t.teardown(() => fleet.close())
  const port = fleet.devices[0]!.port
  t.equal(await presented(port, 'kraken-2.test'), two.fingerprint, 'SNI kraken-2.test: device 2\'s own')
  t.equal(await presented(port, 'KRAKEN-2.test'), two.fingerprint, 'in any case')
  t.equal(await presented(port, 'kraken-1.test'), fleet.fingerprint, 'SNI kraken-1.test: the fleet\'s')
  t.equal(await presented(port, 'kraken-3.test'), fleet.fingerprint, 'SNI kraken-3.test: the fleet\'s')
  t.equal(await presented(port), fleet.fingerprint, 'no SNI: the fleet\'s')
  // Verified against device 2's certificate, by name: the request reaches device 2.
  const serial = await new Promise<string>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, servername: 'kraken-2.test', ca: two.cert, path: '/_emulator/fleet', headers: { host: `kraken-2.test:${port}` } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => { body += s }).on('end', () => { resolve(`${res.statusCode} ${body.length > 0 ? 'body' : ''}`) })
    }).once('error', reject)
  })
  t.equal(serial, '200 body', 'a client that trusts only device 2\'s certificate is answered')
})

t.test('bad certificate files in the fleet file: one clear error; the CLI exits with 2', async t => {
  const dir = t.testdir({ 'garbage.crt': 'not a certificate\n' })
  await pairFiles(dir, 'a', '127.0.0.1')
  await pairFiles(dir, 'b', '127.0.0.1')
  const cases: Array<[string, unknown[], RegExp]> = [
    ['missing.json', [{}, { cert: 'nothing.crt', key: 'a.key' }], /device 2: .*nothing\.crt.*ENOENT/],
    ['mismatch.json', [{ cert: 'a.crt', key: 'b.key' }], /device 1: .*b\.key does not match the certificate/],
    ['garbage.json', [{}, {}, { cert: 'garbage.crt', key: 'a.key' }], /device 3: .*garbage\.crt is not a PEM certificate/],
    ['half.json', [{ cert: 'a.crt' }], /device 1: cert given without key/]
  ]
  for (const [name, devices, message] of cases) {
    writeFileSync(path.join(dir, name), JSON.stringify({ devices }))
    await t.rejects(startFleet({ fleet: path.join(dir, name), devicePorts: 0, passwordHash: 'fast', logLevel: 'silent' }), FleetError, `${name}: a FleetError`)
    await t.rejects(startFleet({ fleet: path.join(dir, name), devicePorts: 0, passwordHash: 'fast', logLevel: 'silent' }), message, `${name}: says what and which device`)
  }
  const run = await runCli(['--fleet', path.join(dir, 'mismatch.json'), '--device-ports', '0', '--in-memory', '--port', '0', '--password-hash', 'fast'])
  t.equal(run.code, 2, 'the CLI exits with status 2')
  t.match(run.stderr, /^kraken-emulator: --fleet .*mismatch\.json: device 1: .*does not match/)
  t.equal(run.stderr.trim().split('\n').length, 1, 'on one line')
})
