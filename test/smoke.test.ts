import t from 'tap'
import { makeApp, login, call } from './helpers/app.ts'
import { startHttps, loginHttps, send } from './helpers/https.ts'

t.test('inject: login then list accounts', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  const res = await call(app, cookie, 'GET', '/apis/v2/accounts')
  t.equal(res.statusCode, 200)
  t.same((res.json() as { account_list: unknown[] }).account_list.length, 3)
})

t.test('https: login then session', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  const res = await send(emu, 'GET', '/apis/v2/session', { cookie })
  t.equal(res.status, 200)
  t.match(res.json(), { username: 'haiadmin', role: 'Administrator' })
})
