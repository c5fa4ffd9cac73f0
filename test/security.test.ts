// The security sweep (issue 7): every documented route is closed without a session, no GET
// ever shows a secret, TLS below 1.2 is refused, session ids are unguessable and never logged.
import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import tls from 'node:tls'
import { Writable } from 'node:stream'
import type { LightMyRequestResponse } from 'fastify'
import { ManualClock } from '../src/kernel/clock.ts'
import { makeApp, login, call, PASSWORD } from './helpers/app.ts'
import { startHttps } from './helpers/https.ts'
import { accessOf, concrete, documentedOperations } from './helpers/documented-routes.ts'
import { EXAMPLE_CERTIFICATE_KEY_PEM } from '../src/admin/certificate-example.ts'
import { Agent, request } from 'undici'
import { startFleet } from '../src/start-fleet.ts'

// What needs no session, and why. Every route declares its access where it is registered; this
// is the whole list of documented routes that declare anything but `session`. A route that joins
// it must be added here on purpose. (The documentation routes are not in /apidoc/json.)
const NOT_SESSION: Record<string, string> = {
  'POST /apis/v2/login': 'open',
  'GET /apis/v2/logout': 'open',
  'POST /apis/v2/logout': 'open',
  'DELETE /apis/v2/logout': 'open',
  'GET /_emulator/health': 'open',
  'POST /_emulator/reset': 'control',
  'GET /_emulator/clock': 'control',
  'POST /_emulator/clock': 'control',
  'POST /_emulator/device/events': 'control',
  'GET /_emulator/snapshots': 'control',
  'POST /_emulator/snapshots': 'control',
  'POST /_emulator/snapshots/{name}/restore': 'control',
  'DELETE /_emulator/snapshots/{name}': 'control',
  'GET /_emulator/requests': 'control',
  'DELETE /_emulator/requests': 'control',
  'GET /_emulator/requests/count': 'control',
  'POST /_emulator/faults': 'control',
  'GET /_emulator/faults': 'control',
  'DELETE /_emulator/faults': 'control',
  'DELETE /_emulator/faults/{faultId}': 'control',
  'POST /_emulator/scenarios': 'control',
  'GET /_emulator/scenarios': 'control',
  'DELETE /_emulator/scenarios': 'control'
}

// The routes left out of /apidoc besides the documentation's own, and their access: the live page
// (issue 17) and its assets hold no data; its event stream needs a session.
const UNDOCUMENTED: Record<string, string> = {
  'GET /': 'open',
  'GET /ui': 'open',
  'GET /ui/assets/:file': 'open',
  'GET /ui/events': 'session'
}

// A fleet's app (src/fleet/) registers the same routes once, plus one of its own.
const FLEET_NOT_SESSION: Record<string, string> = { ...NOT_SESSION, 'GET /_emulator/fleet': 'control' }

function assertUnauthenticated (t: Test, res: LightMyRequestResponse, what: string): void {
  t.equal(res.statusCode, 401, `${what} -> 401`)
  const body = res.json() as { error?: { type?: string } }
  t.equal(body.error?.type, 'SessionAuthentication', `${what}: SessionAuthentication envelope`)
  t.notOk(String(res.headers['set-cookie'] ?? '').includes('id='), `${what}: no session cookie issued`)
}

t.test('every documented route except login, logout and the documentation answers 401 without a session', async t => {
  const clock = new ManualClock()
  const app = await makeApp({ sessionTimeout: 60 }, { clock })
  t.teardown(() => app.close())
  const operations = await documentedOperations(app)
  const declared = Object.fromEntries(operations.map(op => [`${op.method} ${op.path}`, accessOf(app, op)]).filter(([, access]) => access !== 'session'))
  t.same(declared, NOT_SESSION, 'exactly login, logout and the emulator routes declare an access other than session')
  const guarded = operations.filter(o => accessOf(app, o) === 'session')
  t.ok(guarded.length >= 40, `${guarded.length} guarded operations documented (of ${operations.length})`)

  // An expired session and a well-formed but unknown id must fare no better than no cookie.
  const expired = await login(app)
  clock.advance(61_000)
  const cookies: Array<[string, string | undefined]> = [
    ['no cookie', undefined],
    ['unknown id', 'id=2f1c1b52-8a43-4d57-9b0e-4f4b1c1d9e10'],
    ['expired session', expired],
    ['empty id', 'id='],
    ['id in another cookie name', `session=${expired.slice(3)}; xid=${expired.slice(3)}`]
  ]
  for (const op of guarded) {
    const url = concrete(app, op.path)
    for (const [label, cookie] of cookies) {
      const payload = ['POST', 'PUT', 'PATCH'].includes(op.method) ? {} : undefined
      const res = await call(app, cookie, op.method as 'GET', url, payload)
      assertUnauthenticated(t, res, `${op.method} ${op.path} (${label})`)
    }
  }
  // Undocumented paths under /apis/v2 do not reveal whether they exist either.
  for (const url of ['/apis/v2/nothing-here', '/apis/v2', '/apis/v2/streams/stream-x/nothing', '/apis/v2//streams/']) {
    assertUnauthenticated(t, await call(app, undefined, 'GET', url), `GET ${url}`)
  }
})

t.test('the routes outside /apidoc declare exactly the access listed, and the event stream refuses without a session', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const hidden = app.kraken.routes.routes.filter(r => r.hidden && r.method !== 'HEAD' && !r.url.startsWith('/apidoc') && r.url !== '/docs')
  t.same(Object.fromEntries(hidden.map(r => [`${r.method} ${r.url}`, r.access])), UNDOCUMENTED, 'the live page\'s routes, nothing else')
  const expired = await login(app)
  await call(app, expired, 'GET', '/apis/v2/logout')
  for (const [label, cookie] of [['no cookie', undefined], ['a logged-out session', expired], ['an unknown id', 'id=2f1c1b52-8a43-4d57-9b0e-4f4b1c1d9e10']] as const) {
    assertUnauthenticated(t, await call(app, cookie, 'GET', '/ui/events'), `GET /ui/events (${label})`)
  }
})

t.test('a fleet\'s app: the same lists, plus GET /_emulator/fleet (control), nothing else', async t => {
  const fleet = await startFleet({ devices: 2, devicePorts: 0, passwordHash: 'fast', logLevel: 'silent' })
  t.teardown(() => fleet.close())
  const agent = new Agent({ connect: { ca: fleet.certificate } })
  t.teardown(() => agent.close())
  const device = fleet.devices[1]!
  const res = await request(`${device.url}/apidoc/json`, { dispatcher: agent })
  const doc = await res.body.json() as { paths: Record<string, Record<string, unknown>> }
  // One route table for the whole fleet (the app's): read through a device's services.
  const routes = device.services.routes.routes
  const accessOf = (method: string, path: string): string | undefined => routes.find(r => r.method === method && r.url === path.replace(/\{(\w+)\}/g, ':$1'))?.access
  const declared: Record<string, string | undefined> = {}
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops).filter(m => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map(m => m.toUpperCase())) {
      const access = accessOf(method, path)
      if (access !== 'session') declared[`${method} ${path}`] = access
    }
  }
  t.same(declared, FLEET_NOT_SESSION, 'exactly the single emulator\'s non-session routes and the fleet route')
  const hidden = routes.filter(r => r.hidden && r.method !== 'HEAD' && !r.url.startsWith('/apidoc') && r.url !== '/docs')
  t.same(Object.fromEntries(hidden.map(r => [`${r.method} ${r.url}`, r.access])), UNDOCUMENTED, 'and the live page\'s routes outside /apidoc')
  // The fleet route refuses what every control route refuses (the rest in test/fleet.test.ts).
  const foreign = await request(`${device.url}/_emulator/fleet`, { dispatcher: agent, headers: { origin: 'https://evil.example' } })
  t.equal(foreign.statusCode, 403, 'another origin -> 403')
  t.match(await foreign.body.json(), { error: { type: 'ControlAuthorization' } })
})

t.test('no GET response contains a password, a password hash or a passphrase', async t => {
  const app = await makeApp({ fixture: 'default', passwordPolicy: true })
  t.teardown(() => app.close())
  const admin = await login(app)
  const secrets = ['Kr@ken-Secret-Passw0rd!', 'SRT-in-passphrase-9f3c', 'SRT-out-passphrase-41ab']
  const created = [
    await call(app, admin, 'POST', '/apis/v2/accounts', { name: 'sweep', role: 'Operator', state: 'Active', password: secrets[0] }),
    await call(app, admin, 'POST', '/apis/v2/inputs', { name: 'sweep in', protocol: 'ts_srt', srt_mode: 'listener', srt_port: 7001, srt_encryption: 'aes128', srt_passphrase: secrets[1] }),
    await call(app, admin, 'POST', '/apis/v2/outputs', { name: 'sweep out', protocol: 'ts_srt', srt_mode: 'caller', srt_address: '10.0.0.9', srt_port: 7002, srt_encryption: 'aes256', srt_passphrase: secrets[2] })
  ]
  for (const res of created) t.equal(res.statusCode, 201, `seeded a secret: ${res.body.slice(0, 200)}`)

  // Every secret the store holds, in whatever form: plain fixture passwords and every stored hash.
  const forbidden = new Set<string>([PASSWORD, ...secrets])
  for (const r of app.kraken.registry.resources) {
    for (const item of app.kraken.store.list(r.collection)) {
      for (const [key, value] of Object.entries(item)) {
        if (/password|passphrase|hash/i.test(key) && typeof value === 'string' && value.length >= 8) forbidden.add(value)
      }
    }
  }
  t.ok(forbidden.size >= 6, `${forbidden.size} secret values to look for (plain passwords, passphrases and hashes)`)

  const operations = (await documentedOperations(app)).filter(o => o.method === 'GET' && !o.path.startsWith('/apis/v2/logout'))
  const sessions = { Administrator: admin, Operator: await login(app, 'operator'), Viewer: await login(app, 'user') }
  let checked = 0
  for (const [role, cookie] of Object.entries(sessions)) {
    for (const op of operations) {
      const base = concrete(app, op.path)
      for (const url of op.path.endsWith('s') || op.path.endsWith('metadata') ? [base, `${base}?full=true`] : [base]) {
        const res = await call(app, cookie, 'GET', url)
        t.ok(res.statusCode < 500, `${role} GET ${url} -> ${res.statusCode}`)
        checked++
        const leaked = [...forbidden].filter(secret => res.body.includes(secret))
        t.same(leaked, [], `${role} GET ${url} shows no secret`)
        if (url.startsWith('/apis/v2/')) {
          t.notMatch(res.body, /"(password|password_hash|srt_passphrase|current_password|new_password)"\s*:/, `${role} GET ${url} has no secret field`)
          t.notMatch(res.body, /scrypt\$/, `${role} GET ${url} has no password hash`)
        }
      }
    }
  }
  t.ok(checked > operations.length, `${checked} GET responses checked`)
})

t.test('the one private key /apidoc shows is the certificate-import example, public test material', async t => {
  // POST /certificates/import documents a certificate with its key so "Try it out" works (issue
  // 20); that key was made for the example and protects nothing. Any other key there is a leak.
  const app = await makeApp({ fixture: 'default' })
  t.teardown(() => app.close())
  const doc = (await app.inject({ method: 'GET', url: '/apidoc/json' })).body
  const keys = [...doc.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----/g)].map(m => JSON.parse(`"${m[0]}"`) as string)
  t.same(keys, [EXAMPLE_CERTIFICATE_KEY_PEM.trim()])
})

t.test('TLS: versions below 1.2 are refused, 1.2 and 1.3 accepted', async t => {
  // A certs directory, so the test can also read the key for its control server.
  const certs = t.testdir()
  const emu = await startHttps({ certs })
  t.teardown(() => emu.close())
  const key = await readFile(path.join(certs, 'key.pem'), 'utf8')
  const handshake = (port: number, version: tls.SecureVersion) => new Promise<string>((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, servername: 'localhost', ca: emu.certificate,
      minVersion: version, maxVersion: version,
      // Let this client *offer* the old versions; the server is what must refuse them.
      ciphers: 'DEFAULT:@SECLEVEL=0'
    }, () => {
      const protocol = socket.getProtocol() ?? 'unknown'
      socket.end()
      resolve(protocol)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code ?? error.message}`))
  })

  // Control: this client can speak TLS 1.0 and 1.1 to a server that allows them, so a refusal
  // below is the emulator's doing, not the client's.
  const lenient = tls.createServer({ cert: emu.certificate, key, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, s => s.end())
  await new Promise<void>(resolve => lenient.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => lenient.close(() => resolve())))
  const lenientPort = (lenient.address() as { port: number }).port
  t.equal(await handshake(lenientPort, 'TLSv1.1'), 'TLSv1.1', 'control: the client can negotiate TLS 1.1')

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    t.match(await handshake(emu.port, version), /^refused/, `${version} refused`)
  }
  t.equal(await handshake(emu.port, 'TLSv1.2'), 'TLSv1.2', 'TLS 1.2 accepted')
  t.equal(await handshake(emu.port, 'TLSv1.3'), 'TLSv1.3', 'TLS 1.3 accepted')
})

t.test('session ids are UUID v4 (122 random bits), unique, and no bit is fixed or biased', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const n = 64
  const ids = await Promise.all(Array.from({ length: n }, async () => (await login(app)).slice(3)))
  t.equal(new Set(ids).size, n, 'every login issues a new id')
  const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  t.ok(ids.every(id => v4.test(id)), 'every id is a UUID v4: 122 of its 128 bits are random')
  // The 122 random bits: a counter, a timestamp or a weak generator leaves bits stuck or biased.
  // With 64 samples a fair bit is set 32 +- 4 times; 10..54 is over 5 standard deviations.
  const bits = ids.map(randomBits)
  const stuck: number[] = []
  for (let i = 0; i < 122; i++) {
    const ones = bits.filter(b => b[i] === '1').length
    if (ones < 10 || ones > 54) stuck.push(i)
  }
  t.same(stuck, [], 'every random bit varies fairly across sessions')

  const tokens = await makeApp({ sessionIdFormat: 'token' })
  t.teardown(() => tokens.close())
  const tokenIds = await Promise.all(Array.from({ length: 16 }, async () => (await login(tokens)).slice(3)))
  t.ok(tokenIds.every(id => /^[0-9A-Za-z]{40}$/.test(id)), 'token ids are 40 alphanumerics (238 bits)')
  t.equal(new Set(tokenIds).size, 16, 'token ids are unique')
})

function randomBits (uuid: string): string {
  const bits = [...uuid.replaceAll('-', '')].map(h => parseInt(h, 16).toString(2).padStart(4, '0')).join('')
  // Drop the 4 version bits (48-51) and the 2 variant bits (64-65).
  return bits.slice(0, 48) + bits.slice(52, 64) + bits.slice(66)
}

t.test('session ids, passwords and hashes never reach the log, even at trace level', async t => {
  let log = ''
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { log += chunk.toString(); done() } })
  const app = await makeApp({ logLevel: 'trace' }, { logStream: sink })
  t.teardown(() => app.close())
  const cookie = await login(app)
  const id = cookie.slice(3)
  await call(app, cookie, 'GET', '/apis/v2/session')
  await call(app, `${cookie}; id=${id}`, 'GET', '/apis/v2/accounts')
  await call(app, cookie, 'PUT', '/apis/v2/accounts/account-haiadmin/password', { current_password: PASSWORD, new_password: 'Another-Passw0rd!x' })
  await call(app, undefined, 'POST', '/apis/v2/login', { username: 'haiadmin', password: 'wrong-password-123' })
  await call(app, cookie, 'GET', '/apis/v2/logout')
  t.ok(log.length > 0, 'the log captured lines')
  const hashes = app.kraken.store.list('accounts').map(a => String(a.password_hash))
  for (const secret of [id, PASSWORD, 'Another-Passw0rd!x', 'wrong-password-123', ...hashes]) {
    t.notOk(log.includes(secret), `the log never shows ${secret === id ? 'the session id' : 'a password or hash'}`)
  }
})
