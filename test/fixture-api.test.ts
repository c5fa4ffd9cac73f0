// The emulator as a test fixture (issue 6): the package entry, startEmulator's defaults, reset,
// close, and the documented examples run exactly as docs/test-fixture.md shows them.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import tls from 'node:tls'
import { Agent, request } from 'undici'
import * as entry from '../src/index.ts'
import { startEmulator, type RunningEmulator } from '../src/index.ts'
import { ROOT, docExamples, exampleFiles, nodeTestCounts, run, tapCounts } from './helpers/examples.ts'

const INPUT = { name: 'fixture-api-input', protocol: 'ts_udp', url: 'udp://239.9.9.9:5000' }

/** A client that trusts exactly this emulator's certificate. */
function clientOf (kraken: RunningEmulator) {
  const agent = new Agent({ connect: { ca: kraken.certificate } })
  const send = async (method: 'GET' | 'POST', path: string, options: { cookie?: string, body?: unknown } = {}) => {
    const headers: Record<string, string> = {}
    if (options.cookie !== undefined) headers.cookie = options.cookie
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const res = await request(kraken.url + path, { method, headers, dispatcher: agent, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> }
  }
  const login = async (username = 'haiadmin') => {
    const res = await send('POST', '/apis/v2/login', { body: { username, password: 'krakenapi' } })
    if (res.status !== 204) throw new Error(`login answered ${res.status}`)
    const id = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
    return `id=${String(id)}`
  }
  const inputNames = async (cookie: string) => ((await send('GET', '/apis/v2/inputs', { cookie })).json().input_list as Array<{ name: string }>).map(i => i.name)
  return { agent, send, login, inputNames }
}

async function portIsFree (port: number): Promise<boolean> {
  const server = net.createServer()
  return await new Promise(resolve => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** True once the socket closes, false if it is still open after `ms`. */
async function closedWithin (socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.closed) return true
  return await new Promise(resolve => {
    const timer = setTimeout(() => resolve(false), ms)
    socket.once('close', () => { clearTimeout(timer); resolve(true) })
  })
}

t.test('the package entry exports what docs/test-fixture.md promises', async t => {
  for (const name of ['startEmulator', 'buildApp', 'loadConfig', 'fixtureNames', 'version']) t.type(entry[name as keyof typeof entry], 'function', name)
  for (const name of ['ManualClock', 'CertificateError', 'StoreLoadError', 'FixtureError']) t.type(entry[name as keyof typeof entry], 'function', name)
  t.equal(entry.defaultConfig.port, 8443, 'the CLI defaults')
  t.ok(entry.fixtureNames().includes('default'))
  const doc = readFileSync(join(ROOT, 'docs/test-fixture.md'), 'utf8')
  for (const name of Object.keys(entry)) t.match(doc, new RegExp(`\\b${name}\\b`), `${name} is documented`)
})

t.test('startEmulator with the options of the issue: url, port, certificate, fingerprint', async t => {
  const kraken = await startEmulator({ port: 0, fixture: 'default', inMemory: true })
  const client = clientOf(kraken)
  t.teardown(async () => { await client.agent.close(); await kraken.close() })

  t.not(kraken.port, 0, 'the real port')
  t.equal(kraken.url, `https://127.0.0.1:${kraken.port}`)
  const x509 = new X509Certificate(kraken.certificate)
  t.equal(kraken.fingerprint, x509.fingerprint256, 'the fingerprint is that of the certificate')
  t.same(kraken.warnings, [])
  // The certificate is the one the server presents: verification against it succeeds.
  const cookie = await client.login()
  t.equal((await client.send('GET', '/apis/v2/session', { cookie })).json().username, 'haiadmin')
  t.equal(kraken.app.kraken.config.transitionMs, 1000, 'options left out keep the CLI defaults')
})

t.test('in-process defaults: a free port, in memory, its own certificate, quiet logs, nothing written', async t => {
  const cwd = await mkdtemp(join(tmpdir(), 'kraken-fixture-cwd-'))
  const previous = process.cwd()
  process.chdir(cwd)
  const logs = new PassThrough()
  let logged = ''
  logs.on('data', (chunk: Buffer) => { logged += chunk.toString('utf8') })
  const [a, b] = await Promise.all([startEmulator({ logStream: logs }), startEmulator()])
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()])
    process.chdir(previous)
    await rm(cwd, { recursive: true, force: true })
  })
  const client = clientOf(a)
  t.teardown(() => client.agent.close())
  const cookie = await client.login()
  t.equal((await client.send('POST', '/apis/v2/inputs', { cookie, body: INPUT })).status, 201, 'a write')

  t.not(a.port, 8443)
  t.not(a.port, b.port)
  t.not(a.fingerprint, b.fingerprint, 'a certificate each')
  t.equal(a.app.kraken.store.file, undefined, 'in memory')
  t.same(await readdir(cwd), [], 'no certs/ and no data/ in the working directory')
  t.equal(a.app.kraken.config.logLevel, 'warn')
  t.notMatch(logged, /"level":30/, 'no info lines (request logs) by default')
})

t.test('reset(fixture) and POST /_emulator/reset answer once the state is restored', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-fixture-reset-'))
  const kraken = await startEmulator({ data: join(dir, 'kraken.json'), transitionMs: 0 })
  const client = clientOf(kraken)
  t.teardown(async () => {
    await client.agent.close()
    await kraken.close()
    await rm(dir, { recursive: true, force: true })
  })
  let cookie = await client.login()
  const fixtureInputs = await client.inputNames(cookie)
  t.ok(fixtureInputs.length > 0, 'the default fixture has inputs')
  t.equal((await client.send('POST', '/apis/v2/inputs', { cookie, body: INPUT })).status, 201)

  await kraken.reset('empty')
  t.equal((await client.send('GET', '/apis/v2/inputs', { cookie })).status, 401, 'every session ended')
  cookie = await client.login()
  t.same(await client.inputNames(cookie), [], 'switched to the empty fixture as soon as reset resolved')
  t.equal(kraken.app.kraken.store.fixture(), 'empty')

  const res = await client.send('POST', '/_emulator/reset', { body: { fixture: 'default' } })
  t.equal(res.status, 200)
  t.same(res.json(), { fixture: 'default' })
  cookie = await client.login()
  t.same(await client.inputNames(cookie), fixtureInputs, 'the fixture is back by the time the reply arrives')

  t.equal((await client.send('POST', '/apis/v2/inputs', { cookie, body: INPUT })).status, 201)
  const bare = await client.send('POST', '/_emulator/reset')
  t.equal(bare.status, 200, 'no body needed')
  t.same(bare.json(), { fixture: 'default' }, 'the active fixture by default')
  cookie = await client.login()
  t.notOk((await client.inputNames(cookie)).includes(INPUT.name))
})

t.test('close() releases the port at once, and even with idle, stuck and half-open connections', async t => {
  const kraken = await startEmulator({ closeGraceMs: 150 })
  const { port } = kraken
  const client = clientOf(kraken)
  t.teardown(() => client.agent.close())
  await client.login() // leaves an idle keep-alive connection in the agent's pool

  // A request whose body never completes (the server answered 100-continue, so it is in flight)...
  const stuck = tls.connect({ host: '127.0.0.1', port, ca: kraken.certificate, servername: 'localhost' })
  stuck.on('error', () => {}) // it is cut below, which is the point
  await new Promise<void>(resolve => stuck.once('secureConnect', resolve))
  stuck.write('POST /apis/v2/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n')
  await new Promise<void>(resolve => stuck.once('data', () => resolve()))
  // ...and a TCP connection that never even starts its TLS handshake.
  const silent = net.connect(port, '127.0.0.1')
  silent.on('error', () => {})
  await new Promise<void>(resolve => silent.once('connect', resolve))

  const started = Date.now()
  const closing = kraken.close()
  t.equal(kraken.close(), closing, 'idempotent: the same promise')
  await closing
  t.ok(Date.now() - started < 3000, `close() took ${Date.now() - started} ms with closeGraceMs 150`)
  t.ok(await portIsFree(port), 'the port is free')
  t.ok(await closedWithin(stuck, 2000), 'the stuck connection was cut')
  t.ok(await closedWithin(silent, 2000), 'the half-open connection was cut')
  await kraken.close()
  t.pass('a second close() after the first resolves')
})

t.test('a start that fails gives back what it took', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-fixture-fail-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const data = join(dir, 'kraken.json')
  const blocker = net.createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  const taken = (blocker.address() as net.AddressInfo).port
  t.teardown(() => new Promise<void>(resolve => blocker.close(() => resolve())))

  await t.rejects(startEmulator({ port: taken, data }), { code: 'EADDRINUSE' })
  t.notOk(existsSync(`${data}.lock`), 'the data file lock was released')
  const kraken = await startEmulator({ data })
  t.teardown(() => kraken.close())
  t.equal(kraken.app.kraken.store.file, data, 'the same data file opens right after')

  await t.rejects(startEmulator({ data }), { name: 'StoreLoadError', message: /in use by process/ }, 'but never twice at once')
  await t.rejects(startEmulator({ httpPort: taken }), { code: 'EADDRINUSE' }, 'a redirect port in use')
})

t.test('a certificate is shared only when asked: the same certs directory', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-fixture-certs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const certs = join(dir, 'certs')
  const first = await startEmulator({ certs })
  const [second, third] = await Promise.all([startEmulator({ certs }), startEmulator()])
  t.teardown(() => Promise.all([first.close(), second.close(), third.close()]))
  t.equal(second.fingerprint, first.fingerprint, 'asked: shared')
  t.not(third.fingerprint, first.fingerprint, 'not asked: its own')
  t.same((await readdir(certs)).sort(), ['cert.pem', 'key.pem'])
})

t.test('docs/test-fixture.md shows every file of examples/ verbatim', async t => {
  const shown = docExamples()
  t.ok(shown.length >= 6)
  t.same([...new Set(shown.map(e => e.file))].sort(), exampleFiles(), 'each example file is shown, and only those')
  for (const example of shown) {
    t.equal(example.code, readFileSync(join(ROOT, example.file), 'utf8'), `${example.file} (doc line ${example.line}) is the file, verbatim`)
  }
})

t.test('the jest config names the setup and teardown files as their examples call themselves', async t => {
  const config = readFileSync(join(ROOT, 'examples/jest.config.example.mjs'), 'utf8')
  for (const [key, file] of [['globalSetup', 'jest.global-setup.example.mjs'], ['globalTeardown', 'jest.global-teardown.example.mjs']]) {
    const named = /^\/\/ (\S+):/.exec(readFileSync(join(ROOT, 'examples', file!), 'utf8'))?.[1]
    t.match(config, `${key}: './${String(named)}'`, `${key} is ${String(named)}`)
  }
  const testFile = /^\/\/ (\S+):/.exec(readFileSync(join(ROOT, 'examples/jest.example.mjs'), 'utf8'))?.[1]
  t.equal(testFile, 'test/kraken.test.mjs', 'the test file is where Jest looks by default')
})

// The examples import 'kraken-emulator'; this preload resolves it to src/index.ts (no build needed).
const sourcePackage = ['--import', 'tsx', '--import', './test/helpers/source-package.ts']

// The jest example also gets what Jest does around it: the documented global setup and teardown.
const jestGlobals = ['--import', './test/helpers/jest-global.ts']

for (const [file, expected, extra] of [['node-test', 2, []], ['inject', 1, []], ['vitest', 2, []], ['jest', 2, jestGlobals], ['testing-a-client', 3, []]] as const) {
  t.test(`examples/${file}.example.mjs passes under node --test`, async t => {
    const result = await run(process.execPath, [...sourcePackage, ...extra, '--test', `examples/${file}.example.mjs`], { cwd: ROOT })
    t.equal(result.code, 0, result.stdout + result.stderr)
    t.same(nodeTestCounts(result.stdout), { pass: expected, fail: 0 })
  })
}

t.test('examples/tap.example.mjs passes under tap', async t => {
  // Run as a user runs it, not as a child of this tap run (which changes what tap prints).
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^_?TAP/.test(name)))
  const result = await run(process.execPath, [...sourcePackage, 'examples/tap.example.mjs'], { cwd: ROOT, env })
  t.equal(result.code, 0, result.stdout + result.stderr)
  const counts = tapCounts(result.stdout)
  t.equal(counts.fail, 0)
  t.ok(counts.pass >= 6, `${counts.pass} assertions passed`)
})
