// test/kraken-inject.test.mjs: run with `node --test`; no port, no TLS, nothing written
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, ManualClock } from 'kraken-emulator'

test('a session ends after the idle timeout, without waiting for it', async t => {
  const clock = new ManualClock()
  const app = await buildApp({ inMemory: true, logLevel: 'silent', sessionTimeout: 60 }, { clock })
  t.after(() => app.close())

  const login = await app.inject({
    method: 'POST', url: '/apis/v2/login', payload: { username: 'operator', password: 'krakenapi' }
  })
  assert.equal(login.statusCode, 204)
  const cookie = `id=${login.cookies.find(c => c.name === 'id').value}`

  assert.equal((await app.inject({ url: '/apis/v2/session', headers: { cookie } })).statusCode, 200)
  clock.advance(61_000)
  const expired = await app.inject({ url: '/apis/v2/session', headers: { cookie } })
  assert.equal(expired.statusCode, 401)
  assert.equal(expired.json().error.type, 'SessionAuthentication')
})
