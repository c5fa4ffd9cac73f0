// Login over a real HTTPS port with a real client (kraken-api.md section 2, "Login").
import t from 'tap'
import { startHttps, send, loginHttps, type HttpResult } from './helpers/https.ts'
import { setAccountState, sessionIdOf, setCookiesOf, UUID_V4, type TapTest } from './helpers/auth.ts'
import { spyScrypt } from './helpers/scrypt-spy.ts'

const LOGIN = '/apis/v2/login'
const admin = { username: 'haiadmin', password: 'krakenapi' }

t.test('a successful login answers 204 with exactly the device headers', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const res = await send(emu, 'POST', LOGIN, { body: admin })
  t.equal(res.status, 204)
  t.equal(res.text, '', 'no body')
  const cookies = setCookiesOf(res)
  t.equal(cookies.length, 2, 'two Set-Cookie lines')
  t.equal(cookies[0], 'DisplayUnsavedWarning=; Max-Age=100000; Path=/; Secure; SameSite=Strict')
  const id = sessionIdOf(res)
  t.equal(cookies[1], `id=${id}; Path=/; HttpOnly; Secure; SameSite=Strict`)
  t.equal(res.headers['cache-control'], 'no-cache, no-store, must-revalidate')
  t.equal(res.headers.pragma, 'no-cache')
  t.equal(res.headers.expires, '0')
  t.equal(res.headers.server, 'nginx')
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
})

t.test('the session id is an unsigned UUID v4, new at every login, and it works alone', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const ids = new Set<string>()
  for (let i = 0; i < 3; i++) {
    const id = sessionIdOf(await send(emu, 'POST', LOGIN, { body: admin }))
    t.match(id, UUID_V4, 'a bare UUID v4, no signature suffix')
    ids.add(id)
  }
  t.equal(ids.size, 3, 'every login issues a new id')
  // A field client extracts the UUID and sends back only that.
  for (const id of ids) {
    const res = await send(emu, 'GET', '/apis/v2/session', { cookie: `id=${id}` })
    t.equal(res.status, 200, 'each of the concurrent sessions is live')
  }
})

t.test('--session-id-format token issues 40 alphanumerics', async t => {
  const emu = await startHttps({ sessionIdFormat: 'token' })
  t.teardown(() => emu.close())
  const res = await send(emu, 'POST', LOGIN, { body: admin })
  const id = sessionIdOf(res)
  t.match(id, /^[0-9A-Za-z]{40}$/)
  t.equal(setCookiesOf(res)[1], `id=${id}; Path=/; HttpOnly; Secure; SameSite=Strict`)
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie: `id=${id}` })).status, 200)
})

t.test('the body keys may come in any order', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const res = await send(emu, 'POST', LOGIN, { body: '{"password":"krakenapi","username":"operator"}' })
  t.equal(res.status, 204)
  const session = await send(emu, 'GET', '/apis/v2/session', { cookie: `id=${sessionIdOf(res)}` })
  t.match(session.json(), { username: 'operator', role: 'Operator' })
})

t.test('login ignores the request cookies and Authorization header', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const viewer = await loginHttps(emu, 'user')
  const stale = 'id=00000000-0000-4000-8000-000000000000'
  const res = await send(emu, 'POST', LOGIN, {
    body: { username: 'operator', password: 'krakenapi' },
    cookie: `${stale}; ${viewer}`,
    // A preemptive Basic header with other (wrong) credentials, as one field client sends.
    headers: { authorization: 'Basic ' + Buffer.from('haiadmin:wrong').toString('base64') }
  })
  t.equal(res.status, 204)
  const id = sessionIdOf(res)
  t.not(`id=${id}`, viewer, 'a fresh id, not the one the request carried (no fixation)')
  t.match((await send(emu, 'GET', '/apis/v2/session', { cookie: `id=${id}` })).json(), { username: 'operator' })
  t.match((await send(emu, 'GET', '/apis/v2/session', { cookie: viewer })).json(), { username: 'user' }, 'the other session is untouched')

  // Neither a live cookie nor Authorization replaces the body: wrong password is still refused.
  const refused = await send(emu, 'POST', LOGIN, {
    body: { username: 'haiadmin', password: 'nope' },
    cookie: viewer,
    headers: { authorization: 'Basic ' + Buffer.from('haiadmin:krakenapi').toString('base64') }
  })
  t.equal(refused.status, 401)
})

/** A failed login: 401 in the envelope, no session cookie, no top-level `id`. */
function assertRefused (t: TapTest, res: HttpResult, what: string): void {
  t.equal(res.status, 401, `${what}: 401`)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${what}: JSON`)
  const body = res.json() as Record<string, unknown>
  t.same(Object.keys(body), ['error'], `${what}: only the envelope, no top-level id`)
  t.match(body, { error: { type: 'SessionAuthentication', message: String, details: [] } }, `${what}: envelope`)
  t.notOk(setCookiesOf(res).some(c => /^id=[^;]+/.test(c)), `${what}: no session cookie`)
}

t.test('failures: unknown user, wrong password, Disabled and Locked accounts', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  assertRefused(t, await send(emu, 'POST', LOGIN, { body: { username: 'nobody', password: 'krakenapi' } }), 'unknown user')
  assertRefused(t, await send(emu, 'POST', LOGIN, { body: { username: 'haiadmin', password: 'krakenapi!' } }), 'wrong password')
  assertRefused(t, await send(emu, 'POST', LOGIN, { body: { username: 'haiadmin', password: '' } }), 'empty password')
  await setAccountState(emu.app, 'operator', 'Disabled')
  assertRefused(t, await send(emu, 'POST', LOGIN, { body: { username: 'operator', password: 'krakenapi' } }), 'Disabled account')
  await setAccountState(emu.app, 'user', 'Locked')
  assertRefused(t, await send(emu, 'POST', LOGIN, { body: { username: 'user', password: 'krakenapi' } }), 'Locked account')
  t.equal(emu.app.kraken.sessions.size, 0, 'no session was created')
})

t.test('failed logins do not tell names apart: one answer and one hash, whatever the reason', async t => {
  const spy = spyScrypt()
  t.teardown(() => spy.restore())
  const emu = await startHttps({ lockoutAttempts: 2 })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  await setAccountState(emu.app, 'user', 'Disabled')
  // An account an Administrator stored as Locked (its password is haiadmin's, krakenapi).
  const { store } = emu.app.kraken
  await store.commit([{ op: 'put', collection: 'accounts', id: 'stuck', item: { ...store.get('accounts', 'haiadmin'), name: 'stuck', role: 'Viewer', state: 'Locked' } }])
  for (let i = 0; i < 2; i++) t.equal((await send(emu, 'POST', LOGIN, { body: { username: 'operator', password: `wrong-${i}` } })).status, 401)

  const cases: Array<[string, string, string]> = [
    ['unknown name', 'nobody', 'krakenapi'],
    ['another unknown name', 'haiadmin2', 'krakenapi'],
    ['wrong password', 'haiadmin', 'krakenapi!'],
    ['Disabled account, right password', 'user', 'krakenapi'],
    ['Disabled account, wrong password', 'user', 'nope'],
    ['account locked by failed logins, right password', 'operator', 'krakenapi'],
    ['account locked by failed logins, wrong password', 'operator', 'nope'],
    ['account stored as Locked, right password', 'stuck', 'krakenapi']
  ]
  const heads: string[][] = []
  for (const [what, username, password] of cases) {
    spy.reset()
    const res = await send(emu, 'POST', LOGIN, { body: { username, password } })
    assertRefused(t, res, what)
    t.same(res.json(), { error: { type: 'SessionAuthentication', message: 'invalid username or password', details: [] } }, `${what}: the one message`)
    t.equal(spy.salts.length, 1, `${what}: exactly one hash, so it takes the time of any other failure`)
    heads.push(Object.keys(res.headers).filter(name => name !== 'date').sort())
  }
  t.same(new Set(heads.map(head => head.join(' '))).size, 1, 'the same headers every time')
  t.match((await send(emu, 'GET', '/apis/v2/accounts/account-operator', { cookie: admin })).json(), { state: 'Locked' }, 'Administrators still see the lock')
  t.equal(emu.app.kraken.sessions.size, 1, 'no session was created (only the Administrator\'s)')
})

t.test('a malformed login body is a 400 in the envelope, not a 401', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  // Unknown keys are not malformed: a login ignores them (test/contract-deviations.test.ts).
  for (const body of [{ username: 'haiadmin' }, { password: 'krakenapi', remember: true }, { username: 1, password: 'krakenapi' }]) {
    const res = await send(emu, 'POST', LOGIN, { body })
    t.equal(res.status, 400, JSON.stringify(body))
    t.match(res.json(), { error: { type: 'Validation', details: [{ field: String, message: String }] } })
    t.notOk(setCookiesOf(res).some(c => c.startsWith('id=')))
  }
})
