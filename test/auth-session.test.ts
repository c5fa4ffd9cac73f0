// Sessions over HTTPS: introspection, logout, the sliding idle timeout (kraken-api.md section 2).
import t from 'tap'
import { request } from 'undici'
import { ManualClock } from '../src/kernel/clock.ts'
import { startHttps, send, loginHttps } from './helpers/https.ts'
import { setCookiesOf } from './helpers/auth.ts'

const SESSION = '/apis/v2/session'
const unauthenticated = { error: { type: 'SessionAuthentication', message: String, details: [] } }

t.test('GET /apis/v2/session describes the caller in epoch seconds', async t => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0))
  const emu = await startHttps({ clock, sessionTimeout: 600 })
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu, 'operator')
  const created = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000
  t.same((await send(emu, 'GET', SESSION, { cookie })).json(), { username: 'operator', role: 'Operator', created, expires: created + 600 })
  clock.advance(100_000)
  t.same((await send(emu, 'GET', SESSION, { cookie })).json(), { username: 'operator', role: 'Operator', created, expires: created + 100 + 600 }, 'expiry slides')
})

t.test('logout by GET, POST or DELETE: always 204, ends the session, expires the cookie', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    const cookie = await loginHttps(emu)
    const other = await loginHttps(emu)
    const res = await send(emu, method, '/apis/v2/logout', { cookie })
    t.equal(res.status, 204, `${method} logout`)
    t.equal(res.text, '', 'no body')
    t.equal(res.headers.server, 'nginx')
    const expired = setCookiesOf(res).find(c => c.startsWith('id='))
    t.match(expired, /^id=; Max-Age=0;/, `${method}: the id cookie is expired`)
    t.match((await send(emu, 'GET', SESSION, { cookie })).json(), unauthenticated, `${method}: the session is gone`)
    t.equal((await send(emu, 'GET', SESSION, { cookie })).status, 401)
    t.equal((await send(emu, 'GET', SESSION, { cookie: other })).status, 200, `${method}: other sessions of the user live on`)

    // Field clients log out before every login: without a cookie, with a dead one, with garbage.
    for (const stale of [undefined, cookie, 'id=not-a-session; Path=/', ';;']) {
      const again = await send(emu, method, '/apis/v2/logout', stale === undefined ? {} : { cookie: stale })
      t.equal(again.status, 204, `${method} logout with ${stale ?? 'no cookie'}`)
    }
  }
})

t.test('logout ignores whatever body and content type come with it', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const bodies: Array<[string, string | undefined]> = [
    ['{}', 'application/json'],
    ['', 'application/json'],
    ['{broken', 'application/json'],
    ['', 'application/x-www-form-urlencoded'],
    ['a=1', 'application/x-www-form-urlencoded'],
    ['bye', 'text/plain'],
    ['bye', undefined]
  ]
  for (const method of ['POST', 'DELETE'] as const) {
    for (const [body, type] of bodies) {
      const cookie = await loginHttps(emu)
      // undici sends no Content-Type of its own for a string body; send() would add JSON's.
      const res = await request(`${emu.url}/apis/v2/logout`, { method, dispatcher: emu.agent, body, headers: { cookie, ...(type === undefined ? {} : { 'content-type': type }) } })
      await res.body.dump()
      t.equal(res.statusCode, 204, `${method} logout with ${type ?? 'no content type'} ${JSON.stringify(body)}`)
      t.equal((await send(emu, 'GET', SESSION, { cookie })).status, 401, 'and the session ended')
    }
  }
})

t.test('the idle timeout slides and then expires the session (short configured timeout)', async t => {
  const clock = new ManualClock()
  const emu = await startHttps({ clock, sessionTimeout: 5 })
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  const idle = await loginHttps(emu)
  for (let i = 0; i < 4; i++) {
    clock.advance(4_000)
    t.equal((await send(emu, 'GET', SESSION, { cookie })).status, 200, `still live after ${4 * (i + 1)} s with activity`)
  }
  t.equal((await send(emu, 'GET', SESSION, { cookie: idle })).status, 401, 'the idle one expired after 16 s')
  t.match((await send(emu, 'GET', SESSION, { cookie: idle })).json(), unauthenticated)
  clock.advance(4_999)
  t.equal((await send(emu, 'GET', SESSION, { cookie })).status, 200, 'live 1 ms before the timeout')
  clock.advance(5_000)
  const res = await send(emu, 'GET', SESSION, { cookie })
  t.equal(res.status, 401, 'expired after 5 s idle')
  t.match(res.json(), unauthenticated)
  t.equal((await send(emu, 'GET', '/apis/v2/accounts', { cookie })).status, 401, 'everywhere')
  t.equal(emu.app.kraken.sessions.size, 0, 'expired sessions are dropped')
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 204, 'and one logs in again')
})

t.test('the default idle timeout is 15 minutes', async t => {
  const clock = new ManualClock()
  const emu = await startHttps({ clock })
  t.teardown(() => emu.close())
  const a = await loginHttps(emu)
  const b = await loginHttps(emu)
  clock.advance(15 * 60_000 - 1)
  t.equal((await send(emu, 'GET', SESSION, { cookie: a })).status, 200)
  clock.advance(1)
  t.equal((await send(emu, 'GET', SESSION, { cookie: b })).status, 401)
})

t.test('sessions live in memory: a restart ends them', async t => {
  const first = await startHttps()
  const cookie = await loginHttps(first)
  await first.close()
  const second = await startHttps()
  t.teardown(() => second.close())
  t.equal((await send(second, 'GET', SESSION, { cookie })).status, 401)
})

t.test('every /apis/v2 path except login and logout needs a session, unknown ones too', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  for (const [method, path] of [['GET', '/apis/v2/accounts'], ['GET', '/apis/v2/accounts/account-haiadmin'], ['POST', '/apis/v2/accounts'],
    ['GET', '/apis/v2/no-such-thing'], ['DELETE', '/apis/v2/session'], ['GET', '/apis/v2/'], ['GET', '/apis/v2//session/']] as const) {
    const res = await send(emu, method, path)
    t.equal(res.status, 401, `${method} ${path}`)
    t.match(res.json(), unauthenticated)
  }
})
