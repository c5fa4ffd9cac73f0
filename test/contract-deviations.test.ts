// Deviations from kraken-api.md an audit found (issue 20): each answer is the one the contract,
// or an appliance, gives.
import t from 'tap'
import { call, envelopeOf, login, makeApp } from './helpers/app.ts'

const API = '/apis/v2'

t.test('a login ignores body keys it does not know, as appliance logins do; resources stay strict', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: `${API}/login`, payload: { username: 'haiadmin', password: 'krakenapi', remember: true } })
  t.equal(res.statusCode, 204, res.body)
  t.ok(res.cookies.some(c => c.name === 'id'), 'a session cookie')
  const wrong = await app.inject({ method: 'POST', url: `${API}/login`, payload: { username: 'haiadmin', password: 'nope', remember: true } })
  t.equal(wrong.statusCode, 401, 'the password is still checked')
  const admin = await login(app)
  const strict = await call(app, admin, 'POST', `${API}/transcoders`, { name: 'x', remember: true })
  t.equal(strict.statusCode, 400)
  t.match(envelopeOf(strict).message, /remember is not a known field/)
})

t.test('a bad role lists the valid roles', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const admin = await login(app)
  const res = await call(app, admin, 'POST', `${API}/accounts`, { name: 'newbie', role: 'Admin', password: 'Contract!Passw0rd-1' })
  t.equal(res.statusCode, 400)
  const error = envelopeOf(res)
  t.equal(error.message, 'role must be one of "Administrator", "Operator", "Viewer"')
  t.same(error.details, [{ field: 'role', message: 'must be one of "Administrator", "Operator", "Viewer"' }])
})

t.test('?full= takes true/false/1/0 and says so for anything else', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const admin = await login(app)
  const keys = async (query: string) => {
    const res = await call(app, admin, 'GET', `${API}/transcoders${query}`)
    t.equal(res.statusCode, 200, `${query}: ${res.body.slice(0, 200)}`)
    return Object.keys((res.json() as { transcoder_list: Array<Record<string, unknown>> }).transcoder_list[0] ?? {}).length
  }
  const minimal = await keys('')
  const full = await keys('?full=true')
  t.ok(full > minimal, 'full items have more fields')
  t.equal(await keys('?full=1'), full, '1 is true')
  t.equal(await keys('?full=false'), minimal, 'false')
  t.equal(await keys('?full=0'), minimal, '0 is false')
  const bad = await call(app, admin, 'GET', `${API}/transcoders?full=yes`)
  t.equal(bad.statusCode, 400)
  t.equal(envelopeOf(bad).message, 'querystring full must be one of "true", "false", "1", "0"')
})

t.test("an Operator's 403 names the path asked for, not the route template", async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const operator = await login(app, 'operator')
  const res = await call(app, operator, 'DELETE', `${API}/accounts/account-user?x=1`)
  t.equal(res.statusCode, 403)
  t.equal(envelopeOf(res).message, 'the Operator role may not DELETE /apis/v2/accounts/account-user')
})

t.test('an upper-case UUID in a path names the item; the answer carries the stored form', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const admin = await login(app)
  const created = (await call(app, admin, 'POST', `${API}/transcoders`, { name: 'upper' })).json() as { uuid: string }
  const upper = created.uuid.toUpperCase()
  for (const path of [`transcoders/transcoder-${upper}`, `transcoders/${upper}`]) {
    const res = await call(app, admin, 'GET', `${API}/${path}`)
    t.equal(res.statusCode, 200, `${path}: ${res.body.slice(0, 120)}`)
    t.equal(res.json().uuid, created.uuid, 'the stored, lower-case uuid')
  }
  const put = await call(app, admin, 'PUT', `${API}/transcoders/transcoder-${upper}`, { gop_size: 30 })
  t.equal(put.statusCode, 200)
  t.equal(put.json().uuid, created.uuid)
  // Account names are chosen by people and keep their case.
  t.equal((await call(app, admin, 'GET', `${API}/accounts/account-HAIADMIN`)).statusCode, 404)
  t.equal((await call(app, admin, 'DELETE', `${API}/transcoders/transcoder-${upper}`)).statusCode, 204)
})
