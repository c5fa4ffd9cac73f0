import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ManualClock } from '../src/kernel/clock.ts'
import { call, envelopeOf, login, makeApp, USERS } from './helpers/app.ts'
import { RUNTIME_FIXTURE, S, makeRuntimeApp, streamUrl } from './helpers/runtime.ts'
import { loginHttps, send, startHttps } from './helpers/https.ts'
import type { KrakenApp } from '../src/app.ts'

const ALL_STREAMS = Object.values(S)
const AUTO_START = [S.camera720, S.relay]

function running (app: KrakenApp): string[] {
  return ALL_STREAMS.filter(uuid => app.kraken.runtime.state(uuid).status === 'running')
}

t.test('reboot: sessions end, the API answers 503 for the delay, then exactly the auto_start streams run', async t => {
  const { app, clock } = await makeRuntimeApp({ rebootMs: 3000 })
  t.teardown(() => app.close())
  const admin = await login(app)
  const operator = await login(app, USERS.Operator)
  await call(app, operator, 'PUT', streamUrl(S.hevcUplink, '/start'))
  await call(app, operator, 'PUT', streamUrl(S.rtmpRelay, '/start'))
  await call(app, operator, 'PUT', streamUrl(S.relay, '/stop'))
  t.same(running(app).sort(), [S.camera720, S.hevcUplink, S.rtmpRelay].sort(), 'before: a mix of running streams')

  const reboot = await call(app, admin, 'POST', '/apis/v2/system/reboot')
  t.equal(reboot.statusCode, 204)
  t.same(running(app), [], 'every stream stopped at once')

  for (const [cookie, method, url] of [
    [admin, 'GET', '/apis/v2/session'],
    [operator, 'GET', '/apis/v2/streams'],
    [undefined, 'POST', '/apis/v2/login'],
    [undefined, 'GET', '/apis/v2/logout'],
    [undefined, 'GET', '/apis/v2/no-such-thing']
  ] as const) {
    const res = await call(app, cookie, method, url, method === 'POST' ? { username: 'haiadmin', password: 'krakenapi' } : undefined)
    t.equal(res.statusCode, 503, `${method} ${url} during the reboot`)
    t.equal(envelopeOf(res).type, 'ServiceUnavailable')
    t.equal(res.headers['retry-after'], '3', 'Retry-After: the seconds left')
    t.equal(res.headers.server, 'nginx', 'still the device\'s headers')
  }
  t.equal((await call(app, undefined, 'GET', '/_emulator/health')).statusCode, 200, 'the emulator\'s own routes keep working')
  t.equal((await call(app, undefined, 'GET', '/apidoc/json')).statusCode, 200, 'so does /apidoc')

  clock.advance(2_001)
  const late = await call(app, admin, 'GET', '/apis/v2/session')
  t.equal(late.statusCode, 503, 'still rebooting 1 ms before the end')
  t.equal(late.headers['retry-after'], '1')
  t.same(running(app), [], 'nothing runs during the reboot')

  clock.advance(999)
  t.equal((await call(app, admin, 'GET', '/apis/v2/session')).statusCode, 401, 'back up: the old Administrator session is gone')
  t.equal((await call(app, operator, 'GET', '/apis/v2/streams')).statusCode, 401, 'and so is the Operator one')
  t.same(running(app).sort(), [...AUTO_START].sort(), 'exactly the auto_start streams run')
  const fresh = await login(app)
  const list = (await call(app, fresh, 'GET', '/apis/v2/streams')).json() as { stream_list: Array<{ uuid: string, status: string }> }
  t.same(list.stream_list.filter(s => s.status === 'running').map(s => s.uuid).sort(), [...AUTO_START].sort(), 'as the API shows')
  t.match((await call(app, fresh, 'GET', '/apis/v2/license')).json(), { active_transcoder_sessions: 1, active_bypass_sessions: 1 })
})

t.test('only Administrators reboot', async t => {
  const { app } = await makeRuntimeApp({ rebootMs: 3000 })
  t.teardown(() => app.close())
  for (const role of ['Operator', 'Viewer'] as const) {
    const res = await call(app, await login(app, USERS[role]), 'POST', '/apis/v2/system/reboot')
    t.equal(res.statusCode, 403, role)
    t.equal(envelopeOf(res).type, 'SessionAuthorization')
  }
  t.equal((await call(app, undefined, 'POST', '/apis/v2/system/reboot')).statusCode, 401, 'no session')
  t.equal(app.kraken.runtime.rebootRemainingMs(), undefined, 'no reboot happened')
  t.same(running(app).sort(), [...AUTO_START].sort())
})

t.test('--reboot-ms 0: back at once, sessions still ended', async t => {
  const { app } = await makeRuntimeApp({ rebootMs: 0 })
  t.teardown(() => app.close())
  const admin = await login(app)
  await call(app, admin, 'PUT', streamUrl(S.hevcUplink, '/start'))
  t.equal((await call(app, admin, 'POST', '/apis/v2/system/reboot')).statusCode, 204)
  t.equal((await call(app, admin, 'GET', '/apis/v2/session')).statusCode, 401)
  t.same(running(app).sort(), [...AUTO_START].sort())
})

t.test('auto-start beyond the licence leaves the stream in error with the reason', async t => {
  const { app } = await makeRuntimeApp({ rebootMs: 0 })
  t.teardown(() => app.close())
  const admin = await login(app)
  const license = app.kraken.store.singleton('license')!
  await app.kraken.store.commit([{ op: 'set', singleton: 'license', value: { ...license, max_encoders: 0 } }])
  await call(app, admin, 'POST', '/apis/v2/system/reboot')
  const state = app.kraken.runtime.state(S.camera720)
  t.equal(state.status, 'error')
  t.match(state.sub_status, /max_encoders 0/)
  t.equal(app.kraken.runtime.state(S.relay).status, 'running', 'Bypass needs no licence')
  t.same(app.kraken.runtime.counts(), { transcoder: 0, bypass: 1 }, 'a stream in error holds no session')
  const cookie = await login(app)
  const shown = (await call(app, cookie, 'GET', streamUrl(S.camera720))).json() as { status: string, sub_status: string }
  t.same({ status: shown.status, sub_status: shown.sub_status }, state, 'the API shows the error')
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.camera720), { description: 'editable in error' })).statusCode, 200, 'a stream in error can be changed')
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.camera720, '/stop'))).json().status, 'stopped', 'stop clears the error')
})

t.test('a reset restores the fixture and auto-starts, also in the middle of a reboot', async t => {
  const { app, clock } = await makeRuntimeApp({ rebootMs: 60_000 })
  t.teardown(() => app.close())
  const admin = await login(app)
  await call(app, admin, 'PUT', streamUrl(S.hevcUplink, '/start'))
  await call(app, admin, 'PUT', streamUrl(S.camera720, '/stop'))
  await app.kraken.reset()
  t.same(running(app).sort(), [...AUTO_START].sort(), 'after a reset: the auto_start streams')

  await call(app, await login(app), 'POST', '/apis/v2/system/reboot')
  t.equal((await call(app, undefined, 'POST', '/_emulator/reset')).statusCode, 200, 'reset works during a reboot')
  t.equal(app.kraken.runtime.rebootRemainingMs(), undefined, 'and ends it')
  t.equal((await call(app, await login(app), 'GET', '/apis/v2/session')).statusCode, 200, 'the API is back')
  t.same(running(app).sort(), [...AUTO_START].sort())
  clock.advance(60_000)
  t.same(running(app).sort(), [...AUTO_START].sort(), 'the abandoned reboot does not fire later')
})

t.test('after a restart on the same data file only auto_start streams run', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-runtime-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const config = { inMemory: false, data: path.join(dir, 'kraken.json'), fixture: RUNTIME_FIXTURE, seed: 1 }
  const first = await makeApp(config, { clock: new ManualClock() })
  await first.ready()
  const cookie = await login(first)
  await call(first, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  await call(first, cookie, 'PUT', streamUrl(S.rtmpRelay, '/start'))
  t.equal(running(first).length, 4)
  await first.close()

  const second = await makeApp(config, { clock: new ManualClock() })
  t.teardown(() => second.close())
  await second.ready()
  t.same(running(second).sort(), [...AUTO_START].sort(), 'what ran before the restart is stopped unless auto_start')
})

t.test('over HTTPS: a started emulator auto-starts, and a reboot answers 503 then comes back', async t => {
  const clock = new ManualClock()
  const emu = await startHttps({ fixture: RUNTIME_FIXTURE, clock, rebootMs: 1500 })
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  const list = (await send(emu, 'GET', '/apis/v2/streams', { cookie })).json() as { stream_list: Array<{ uuid: string, status: string }> }
  t.same(list.stream_list.filter(s => s.status === 'running').map(s => s.uuid).sort(), [...AUTO_START].sort(), 'auto_start streams run after start')
  t.equal((await send(emu, 'POST', '/apis/v2/system/reboot', { cookie })).status, 204)
  const down = await send(emu, 'GET', '/apis/v2/streams', { cookie })
  t.equal(down.status, 503)
  t.equal(down.headers['retry-after'], '2')
  t.equal(down.headers['content-type'], 'application/json; charset=utf-8')
  t.match(down.json(), { error: { type: 'ServiceUnavailable', details: [] } })
  clock.advance(1500)
  t.equal((await send(emu, 'GET', '/apis/v2/streams', { cookie })).status, 401, 'back up, the session is gone')
  t.same(running(emu.app).sort(), [...AUTO_START].sort())
})
