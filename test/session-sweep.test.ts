// Session memory (issue 13): expired sessions are swept on the emulator's clock, not only when
// presented again, and `--max-sessions` caps the live ones (503 with Retry-After past it, never
// an eviction).
import t from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import { ManualClock } from '../src/kernel/clock.ts'
import { startHttps, send, loginHttps } from './helpers/https.ts'
import { setCookiesOf } from './helpers/auth.ts'

const LOGIN = '/apis/v2/login'

/** A full garbage collection, without starting node with --expose-gc. */
function fullGc (): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

function heapAfterGc (gc: () => void): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

t.test('expired sessions are swept on the emulator clock, and their memory is given back', async t => {
  const clock = new ManualClock()
  const count = 50_000
  const emu = await startHttps({ clock, sessionTimeout: 900, maxSessions: count + 10 })
  t.teardown(() => emu.close())
  const { sessions } = emu.app.kraken
  // One session through a real login too: the sweep is wired into the app, not only the store.
  const cookie = await loginHttps(emu, 'operator')
  const gc = fullGc()
  const baseline = heapAfterGc(gc)
  // Created through the store: 50,000 logins would be 50,000 deliberate hashes.
  for (let i = 0; i < count; i++) sessions.create(['haiadmin', 'operator', 'user'][i % 3]!, 'Viewer')
  const full = heapAfterGc(gc)
  t.ok(full - baseline > count * 200, `the sessions take memory (${Math.round((full - baseline) / count)} bytes each)`)

  clock.advance(899_999)
  t.equal(sessions.size, count + 1, 'nothing expired before the timeout')
  clock.advance(1)
  t.equal(sessions.size, 0, 'the timeout passed: every session is gone, none of them presented again')
  const after = heapAfterGc(gc)
  t.ok(after - baseline < (full - baseline) / 10,
    `the heap is back near its baseline (${((after - baseline) / 1e6).toFixed(1)} MB above it, from ${((full - baseline) / 1e6).toFixed(1)} MB)`)
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie })).status, 401, 'the swept session is refused')
})

t.test('a session in use is not swept: the expiry slides, and the sweep follows it', async t => {
  const clock = new ManualClock()
  const emu = await startHttps({ clock, sessionTimeout: 60 })
  t.teardown(() => emu.close())
  const kept = await loginHttps(emu)
  await loginHttps(emu, 'user')
  clock.advance(50_000)
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie: kept })).status, 200)
  clock.advance(10_000)
  t.equal(emu.app.kraken.sessions.size, 1, 'the idle one was swept at its expiry, the used one kept')
  clock.advance(49_999)
  t.equal(emu.app.kraken.sessions.size, 1)
  clock.advance(1)
  t.equal(emu.app.kraken.sessions.size, 0, 'and the used one at its own (slid) expiry')
})

t.test('--max-sessions: past the cap a login answers 503 with Retry-After, and no session is ended for it', async t => {
  const clock = new ManualClock()
  const emu = await startHttps({ clock, maxSessions: 2, sessionTimeout: 60 })
  t.teardown(() => emu.close())
  const first = await loginHttps(emu)
  clock.advance(10_000)
  const second = await loginHttps(emu, 'operator')

  for (const [what, body] of [['a right password', { username: 'user', password: 'krakenapi' }], ['a wrong one', { username: 'user', password: 'nope' }], ['an unknown name', { username: 'nobody', password: 'x' }]] as const) {
    const refused = await send(emu, 'POST', LOGIN, { body })
    t.equal(refused.status, 503, `${what}: 503`)
    t.equal(refused.headers['retry-after'], '50', `${what}: Retry-After, the seconds until the first session can expire`)
    t.same(refused.json(), { error: { type: 'ServiceUnavailable', message: 'too many sessions are open; try again later', details: [] } }, `${what}: envelope`)
    t.notOk(setCookiesOf(refused).some(c => c.startsWith('id=')), `${what}: no session`)
  }
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie: first })).status, 200, 'the oldest session lives on: no eviction')
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie: second })).status, 200)

  t.equal((await send(emu, 'GET', '/apis/v2/logout', { cookie: second })).status, 204)
  const third = await loginHttps(emu, 'user')
  t.equal((await send(emu, 'POST', LOGIN, { body: { username: 'user', password: 'krakenapi' } })).status, 503, 'full again')
  clock.advance(60_000)
  t.equal(emu.app.kraken.sessions.size, 0, 'both expired and were swept')
  t.equal((await send(emu, 'POST', LOGIN, { body: { username: 'user', password: 'krakenapi' } })).status, 204, 'room again')
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie: third })).status, 401)
})

t.test('sessions per account stay unlimited below the cap', async t => {
  const emu = await startHttps({ maxSessions: 5 })
  t.teardown(() => emu.close())
  for (let i = 0; i < 5; i++) await loginHttps(emu, 'haiadmin')
  t.equal(emu.app.kraken.sessions.size, 5)
})
