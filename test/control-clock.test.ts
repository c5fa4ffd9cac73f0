// The device clock (issue 16): --clock manual, GET/POST /_emulator/clock, and everything that
// depends on time following it, over a real HTTPS port.
import t from 'tap'
import { send, startHttps, loginHttps } from './helpers/https.ts'
import { advance, moveClock, statistics, streamStatus, UAV_720P } from './helpers/control.ts'
import { ManualClock, systemClock } from '../src/kernel/clock.ts'

t.test('--clock manual: the clock stands still until moved, and moves forward only', async t => {
  const emu = await startHttps({ clock: 'manual' })
  t.teardown(() => emu.close())
  const first = (await send(emu, 'GET', '/_emulator/clock')).json() as { now: string, now_ms: number, mode: string }
  t.equal(first.mode, 'manual')
  t.ok(Math.abs(first.now_ms - Date.now()) < 60_000, 'frozen at the real time it started')
  t.equal(first.now, new Date(first.now_ms).toISOString())
  const again = (await send(emu, 'GET', '/_emulator/clock')).json() as { now_ms: number }
  t.equal(again.now_ms, first.now_ms, 'no time passes by itself')

  const moved = await moveClock(emu, { advance_ms: 90_000 })
  t.equal(moved.status, 200)
  t.equal((moved.json() as { now_ms: number }).now_ms, first.now_ms + 90_000, 'advance_ms moves it by exactly that')

  const target = new Date(first.now_ms + 3_600_000).toISOString()
  const set = await moveClock(emu, { set: target })
  t.equal((set.json() as { now: string }).now, target, 'set moves it to that time')

  const past = await moveClock(emu, { set: new Date(first.now_ms).toISOString() })
  t.equal(past.status, 400, 'a set into the past is refused')
  const error = (past.json() as { error: { type: string, message: string, details: Array<{ field: string, message: string }> } }).error
  t.equal(error.type, 'Validation')
  t.equal(error.details[0]?.field, 'set')
  t.match(error.message, target, 'the message names the current time')
  t.equal(emu.clock.now(), Date.parse(target), 'and the clock did not move')

  t.equal(emu.clock.mode(), 'manual')
  emu.clock.advance('15m')
  t.equal(emu.clock.now(), Date.parse(target) + 15 * 60_000, "emu.clock.advance('15m')")
  emu.clock.set(new Date(Date.parse(target) + 3_600_000))
  t.equal(emu.clock.now(), Date.parse(target) + 3_600_000, 'emu.clock.set(date)')
  t.throws(() => emu.clock.set(new Date(Date.parse(target))), RangeError, 'set into the past throws')
  t.throws(() => emu.clock.advance('soon'), RangeError, 'a malformed duration throws')
})

t.test('bad input to the clock routes is a 400 naming the field', async t => {
  const emu = await startHttps({ clock: 'manual' })
  t.teardown(() => emu.close())
  const cases: Array<[unknown, string]> = [
    [{ advance_ms: -1 }, 'advance_ms'],
    [{ advance_ms: 'ten' }, 'advance_ms'],
    [{ advance_ms: 1.5 }, 'advance_ms'],
    [{ set: 'yesterday' }, 'set'],
    [{ advance_ms: 1, set: new Date().toISOString() }, 'set'],
    [{ mode: 'fast' }, 'mode'],
    [{}, 'advance_ms'],
    [{ advance: 5 }, 'advance']
  ]
  for (const [body, field] of cases) {
    const res = await moveClock(emu, body)
    t.equal(res.status, 400, `${JSON.stringify(body)} -> 400`)
    const details = (res.json() as { error: { details: Array<{ field: string }> } }).error.details
    t.equal(details[0]?.field, field, `${JSON.stringify(body)} names ${field}`)
  }
})

t.test('the real clock can be moved forward too, and switched to manual', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const before = (await send(emu, 'GET', '/_emulator/clock')).json() as { now_ms: number, mode: string }
  t.equal(before.mode, 'real')
  const after = (await moveClock(emu, { advance_ms: 86_400_000, mode: 'manual' })).json() as { now_ms: number, mode: string }
  t.ok(after.now_ms >= before.now_ms + 86_400_000, 'a day later')
  t.equal(after.mode, 'manual')
  const still = (await send(emu, 'GET', '/_emulator/clock')).json() as { now_ms: number }
  t.equal(still.now_ms, after.now_ms, 'frozen from then on')
})

t.test('session idle timeouts and lockouts expire when the clock moves', async t => {
  const emu = await startHttps({ clock: 'manual', sessionTimeout: 900, lockoutAttempts: 2, lockoutSeconds: 300 })
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  await advance(emu, 899_000)
  t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).status, 200, 'alive just before the timeout (and touched)')
  await advance(emu, 900_000)
  t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).status, 401, 'expired after 900 s idle')

  for (let i = 0; i < 2; i++) await send(emu, 'POST', '/apis/v2/login', { body: { username: 'operator', password: 'wrong' } })
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'operator', password: 'krakenapi' } })).status, 401, 'locked')
  await advance(emu, 299_000)
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'operator', password: 'krakenapi' } })).status, 401, 'still locked at 299 s')
  await advance(emu, 1000)
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'operator', password: 'krakenapi' } })).status, 204, 'unlocked at 300 s')
})

t.test('stream transitions, uptime, currenttime and statistics follow the clock', async t => {
  const emu = await startHttps({ clock: 'manual', transitionMs: 1000, seed: 7 })
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu, 'haiadmin')
  const info0 = (await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).json() as { uptime: number, currenttime: number }
  // The fixture's auto_start streams are starting: stop the one under test, then start it now.
  await send(emu, 'POST', `/apis/v2/streams/${UAV_720P}/stop`, { cookie })
  await advance(emu, 1000)
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'stopped')
  await send(emu, 'POST', `/apis/v2/streams/${UAV_720P}/start`, { cookie })
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'starting')
  await advance(emu, 999)
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'starting', 'not yet at 999 ms')
  await advance(emu, 1)
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'running', 'running at the transition time')

  const s0 = await statistics(emu, cookie, UAV_720P)
  t.equal(s0.uptime, 0)
  await advance(emu, 600_000)
  const s1 = await statistics(emu, cookie, UAV_720P)
  t.equal(s1.uptime, 600, 'uptime of the stream: 600 s')
  t.equal(s1.decoder.frames_decoded - s0.decoder.frames_decoded, 30 * 600, '30 fps source: 18000 frames decoded in 10 minutes')
  t.ok(s1.input.bytes > 0.97 * 8_000_000 / 8 * 600 && s1.input.bytes < 1.03 * 8_000_000 / 8 * 600, `8 Mbit/s for 600 s: ${s1.input.bytes} bytes`)

  const info1 = (await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).json() as { uptime: number, currenttime: number }
  t.equal(info1.currenttime - info0.currenttime, 602, 'currenttime advanced by the time moved')
  t.equal(info1.uptime - info0.uptime, 602, 'so did uptime')
})

t.test('a reboot window ends when the clock passes it', async t => {
  const emu = await startHttps({ clock: 'manual', rebootMs: 60_000 })
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  t.equal((await send(emu, 'POST', '/apis/v2/system/reboot', { cookie })).status, 204)
  const during = await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })
  t.equal(during.status, 503, 'rebooting')
  t.equal(during.headers['retry-after'], '60')
  await advance(emu, 59_999)
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 503, 'still rebooting')
  await advance(emu, 1)
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 204, 'back up')
  const info = (await send(emu, 'GET', '/apis/v2/systeminfo', { cookie: await loginHttps(emu) })).json() as { uptime: number }
  t.equal(info.uptime, 0, 'uptime restarts at the boot')
})

t.test('the clock routes are control routes', async t => {
  const emu = await startHttps({ clock: 'manual' })
  t.teardown(() => emu.close())
  t.equal((await send(emu, 'GET', '/_emulator/clock', { headers: { origin: 'https://evil.example' } })).status, 403, 'another origin is refused')
  t.equal((await send(emu, 'POST', '/_emulator/clock', { body: { advance_ms: 1 }, headers: { origin: 'https://evil.example' } })).status, 403)
  const guarded = await startHttps({ clock: 'manual', controlToken: 'sesame-sesame-sesame' })
  t.teardown(() => guarded.close())
  t.equal((await send(guarded, 'POST', '/_emulator/clock', { body: { advance_ms: 1 } })).status, 401, 'no token: 401')
  t.equal((await send(guarded, 'POST', '/_emulator/clock', { body: { advance_ms: 1 }, headers: { 'x-kraken-control-token': 'sesame-sesame-sesame' } })).status, 200, 'with the token')
})

t.test('a clock the host supplied moves with the host: a ManualClock through the routes, a plain Clock not at all', async t => {
  const manual = new ManualClock(Date.UTC(2030, 0, 1))
  const emu = await startHttps({ clock: manual })
  t.teardown(() => emu.close())
  await advance(emu, 5000)
  t.equal(manual.now(), Date.UTC(2030, 0, 1) + 5000, 'the routes move the ManualClock given')
  const plain = await startHttps({ clock: { now: () => Date.now(), setTimeout: systemClock.setTimeout } })
  t.teardown(() => plain.close())
  const refused = await moveClock(plain, { advance_ms: 1 })
  t.equal(refused.status, 409, 'a plain Clock cannot be moved from here')
  t.equal((refused.json() as { error: { type: string } }).error.type, 'Conflict')
  t.throws(() => plain.clock.advance('1s'), /move that clock instead/)
})
