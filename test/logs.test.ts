// Secrets never reach the log (issue 2, acceptance 5): passwords, session ids, password hashes.
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp, type KrakenApp } from '../src/app.ts'
import { startHttps, send, type HttpResult } from './helpers/https.ts'
import { sessionIdOf, type TapTest } from './helpers/auth.ts'

const NEW_PASSWORD = 'Fresh!Passw0rd-2026'
const OTHER_PASSWORD = 'An0ther#Passw0rd-2026'

/** A log sink that keeps every line. */
function capture (): { stream: Writable, text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({ write (chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done() } })
  return { stream, text: () => chunks.join('') }
}

/** Every secret of a store: whole hashes, and their salt and digest parts on their own. */
function hashesOf (app: KrakenApp): string[] {
  const out: string[] = []
  for (const account of app.kraken.store.list('accounts')) {
    const hash = String(account.password_hash)
    out.push(hash, ...hash.split('$').slice(4))
  }
  return out
}

/**
 * Exercises every path that touches a secret: logins that work and fail, cookies live and dead,
 * malformed bodies holding a password, accounts created and passwords changed, logout, a 500.
 */
async function exercise (call: (method: string, path: string, options?: { cookie?: string, body?: unknown }) => Promise<HttpResult>): Promise<string[]> {
  const ids: string[] = []
  const login = async (username: string, password = 'krakenapi') => {
    const res = await call('POST', '/apis/v2/login', { body: { username, password } })
    const id = sessionIdOf(res)
    ids.push(id)
    return `DisplayUnsavedWarning=true; Path=/; Secure;; id=${id}; Path=/; Secure; HttpOnly`
  }
  const admin = await login('haiadmin')
  const viewer = await login('user')
  await call('POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi-wrong' } })
  await call('POST', '/apis/v2/login', { body: { username: 'nobody', password: 'krakenapi' } })
  await call('POST', '/apis/v2/login', { body: '{"username":"haiadmin","password":"krakenapi"' })
  await call('POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi', extra: 'krakenapi' } })
  await call('GET', '/apis/v2/session', { cookie: admin })
  await call('GET', '/apis/v2/accounts', { cookie: viewer })
  await call('POST', '/apis/v2/accounts', { cookie: viewer, body: { name: 'x', role: 'Viewer', password: NEW_PASSWORD } })
  await call('POST', '/apis/v2/accounts', { cookie: admin, body: { name: 'logtest', role: 'Operator', state: 'Active', password: NEW_PASSWORD } })
  await call('POST', '/apis/v2/accounts', { cookie: admin, body: { name: 'weak', role: 'Viewer', password: 'krakenapi' } })
  await call('PUT', '/apis/v2/accounts/account-logtest/password', { cookie: admin, body: { new_password: OTHER_PASSWORD } })
  await call('PUT', '/apis/v2/accounts/account-user/password', { cookie: viewer, body: { current_password: 'krakenapi-bad', new_password: OTHER_PASSWORD } })
  await login('logtest', OTHER_PASSWORD)
  await call('GET', '/apis/v2/nope', { cookie: admin })
  await call('GET', '/apis/v2/session', { cookie: `id=${ids[0]!.slice(0, -1)}x` })
  await call('GET', '/apis/v2/logout', { cookie: admin })
  await call('GET', '/apis/v2/session', { cookie: admin })
  return ids
}

function assertClean (t: TapTest, log: string, ids: string[], hashes: string[]): void {
  t.ok(log.split('\n').length > 20, 'the log captured the traffic')
  t.notMatch(log, 'krakenapi', 'no default password')
  t.notMatch(log, NEW_PASSWORD, 'no password set through the API')
  t.notMatch(log, OTHER_PASSWORD, 'no changed password')
  t.ok(ids.length >= 3)
  for (const id of ids) t.notMatch(log, id, 'no session id')
  t.ok(hashes.length >= 12)
  for (const hash of hashes) t.notMatch(log, hash, 'no password hash, salt or digest')
  t.notMatch(log, /scrypt\$/, 'no hash at all')
}

t.test('buildApp at trace level logs no secret', async t => {
  const sink = capture()
  const app = await buildApp({ inMemory: true, logLevel: 'trace', transitionMs: 0 }, { logStream: sink.stream })
  t.teardown(() => app.close())
  const ids = await exercise(async (method, path, options = {}) => {
    const headers: Record<string, string> = {}
    if (options.cookie !== undefined) headers.cookie = options.cookie
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    const res = await app.inject({ method: method as 'GET', url: path, headers, ...(payload === undefined ? {} : { payload }) })
    return { status: res.statusCode, headers: res.headers as HttpResult['headers'], text: res.body, json: () => res.json() }
  })
  assertClean(t, sink.text(), ids, hashesOf(app))
})

t.test('startEmulator over HTTPS at trace level logs no secret, a 500 included', async t => {
  const sink = capture()
  const emu = await startHttps({ logStream: sink.stream, logLevel: 'trace' })
  t.teardown(() => emu.close())
  const ids = await exercise((method, path, options) => send(emu, method as 'GET', path, options))
  // A 500 logs its error: the request that failed carried a live session and a password.
  const admin = `id=${sessionIdOf(await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } }))}`
  ids.push(admin.slice(3))
  const hashes = hashesOf(emu.app)
  const commit = emu.app.kraken.store.commit.bind(emu.app.kraken.store)
  emu.app.kraken.store.commit = () => Promise.reject(new Error('disk failure'))
  t.equal((await send(emu, 'POST', '/apis/v2/accounts', { cookie: admin, body: { name: 'boom', role: 'Viewer', password: NEW_PASSWORD } })).status, 500)
  emu.app.kraken.store.commit = commit
  const log = sink.text()
  t.match(log, 'disk failure', 'the 500 cause is in the log')
  assertClean(t, log, ids, hashes)
})
