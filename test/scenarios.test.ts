// Scenarios (issue 17): a scripted timeline of API calls and device events played on the
// emulator's clock. Every test runs on the manual clock: it moves the clock to a step's time and
// waits for the step's requests (`scenarios.idle()`), never for real time.
import t from 'tap'
import { ManualClock } from '../src/kernel/clock.ts'
import type { KrakenApp } from '../src/app.ts'
import type { Config } from '../src/config.ts'
import type { ScenarioStatus } from '../src/control/scenario-player.ts'
import { parseAt } from '../src/control/scenario-format.ts'
import { call, envelopeOf, login, makeApp, USERS } from './helpers/app.ts'
import type { TapTest } from './helpers/auth.ts'
import { GATE_HEVC, PRESS_BYPASS, UAV_720P, UAV_PASSTHRU } from './helpers/control.ts'

const PATH = '/_emulator/scenarios'
const FORMAT = 'kraken-emulator-scenario/1'

async function setup (t: TapTest, config: Partial<Config> = {}): Promise<{ app: KrakenApp, clock: ManualClock, cookie: string }> {
  const clock = new ManualClock()
  const app = await makeApp({ transitionMs: 1000, ...config }, { clock })
  await app.ready()
  t.teardown(() => app.close())
  return { app, clock, cookie: await login(app, USERS.Viewer) }
}

const post = (app: KrakenApp, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) })

/** Moves the clock to `at` from the scenario's start and waits for the steps that fell due. */
async function reach (app: KrakenApp, clock: ManualClock, start: number, at: string): Promise<void> {
  clock.set(start + parseAt(at)!)
  await app.kraken.scenarios.idle()
}

const statusOf = async (app: KrakenApp, cookie: string, uuid: string) => (await call(app, cookie, 'GET', `/apis/v2/streams/${uuid}`)).json() as { status: string, sub_status: string }

t.test('outage-recovery plays on the clock: events fail streams, API calls restart them, and the calls are in the request log', async t => {
  const { app, clock, cookie } = await setup(t)
  const start = clock.now()
  const res = await post(app, { name: 'outage-recovery' })
  t.equal(res.statusCode, 202, res.body)
  t.match(res.json(), { status: { name: 'outage-recovery', step: 0, steps: 10, elapsedMs: 0, durationMs: 255_000, state: 'running' }, shipped: ['outage-recovery', 'training-walkthrough'] })
  await app.kraken.scenarios.idle()
  t.equal(app.kraken.scenarios.status()?.step, 1, 'the 0:00 step ran at once')
  t.equal((await statusOf(app, cookie, GATE_HEVC)).status, 'starting', 'Gate Camera HEVC was started')

  await reach(app, clock, start, '0:29')
  t.equal((await statusOf(app, cookie, UAV_720P)).status, 'running', 'before 0:30 nothing else happened')
  await reach(app, clock, start, '0:30')
  t.match(await statusOf(app, cookie, UAV_720P), { status: 'error', sub_status: /^input lost/ }, 'at 0:30 the input is lost')
  t.match(app.kraken.scenarios.status(), { step: 2, elapsedMs: 30_000, state: 'running', last: /^0:30 Nothing arrives from UAV-1/ })

  for (const at of ['1:00', '1:15', '1:16', '1:30', '1:31']) await reach(app, clock, start, at)
  t.match(await statusOf(app, cookie, UAV_720P), { status: 'running', sub_status: '' }, 'stopped and started again by the operator')
  await reach(app, clock, start, '2:00')
  t.equal((await statusOf(app, cookie, UAV_PASSTHRU)).status, 'error', 'output unreachable')
  await reach(app, clock, start, '2:45')
  t.equal((await statusOf(app, cookie, UAV_PASSTHRU)).status, 'running', 'recovered by itself after 45 s')
  await reach(app, clock, start, '3:15')
  t.equal((await statusOf(app, cookie, UAV_720P)).status, 'error', 'eth1 down')
  await reach(app, clock, start, '3:45')
  t.equal((await statusOf(app, cookie, UAV_720P)).status, 'running', 'eth1 up')
  await reach(app, clock, start, '4:15')
  const end = app.kraken.scenarios.status()
  t.match(end, { name: 'outage-recovery', step: 10, steps: 10, elapsedMs: 255_000, state: 'finished', last: /^4:15 The operator stops Gate Camera HEVC: 200$/ })
  clock.advance(60_000)
  t.equal(app.kraken.scenarios.status()?.elapsedMs, 255_000, 'elapsed time is frozen once finished')

  const log = (await app.inject({ method: 'GET', url: '/_emulator/requests?user=operator' })).json() as { requests: Array<{ method: string, path: string, status: number, role: string, headers: Record<string, string> }> }
  t.same(log.requests.map(r => `${r.method} ${r.path} ${r.status}`), [
    `POST /apis/v2/streams/${GATE_HEVC}/start 200`,
    `GET /apis/v2/streams/${UAV_720P} 200`,
    `POST /apis/v2/streams/${UAV_720P}/stop 200`,
    `POST /apis/v2/streams/${UAV_720P}/start 200`,
    `GET /apis/v2/streams/${UAV_PASSTHRU} 200`,
    `POST /apis/v2/streams/${GATE_HEVC}/stop 200`
  ], 'the API calls are in the request log, as the operator, with names resolved to uuids')
  t.equal(log.requests[0]?.role, 'Operator')
  t.match(log.requests[0]?.headers['user-agent'], /kraken-emulator-scenario \(outage-recovery\)/)
})

t.test('training-walkthrough plays to the end; GET follows it', async t => {
  const { app, clock, cookie } = await setup(t)
  const start = clock.now()
  t.equal((await post(app, { name: 'training-walkthrough' })).statusCode, 202)
  const steps = ['0:10', '0:11', '0:30', '0:45', '1:00', '1:01', '1:30', '1:45', '1:46', '2:30', '3:00', '3:01', '3:30', '4:00', '4:30']
  for (const at of steps) {
    await reach(app, clock, start, at)
    t.not(app.kraken.scenarios.status()?.state, 'failed', `${at}: ${String(app.kraken.scenarios.status()?.last)}`)
  }
  const got = (await app.inject({ method: 'GET', url: PATH })).json() as { status: ScenarioStatus }
  t.match(got.status, { name: 'training-walkthrough', step: 12, steps: 12, state: 'finished' })
  const list = (await call(app, cookie, 'GET', '/apis/v2/streams')).json() as { stream_list: Array<{ name: string }> }
  t.notOk(list.stream_list.some(s => s.name === 'Training UAV-1 to Spare'), 'the training stream was deleted again')
  t.equal((await statusOf(app, cookie, PRESS_BYPASS)).status, 'stopped', 'the press feed stopped at 4:00')
  t.equal((await statusOf(app, cookie, GATE_HEVC)).status, 'stopping', 'the gate camera is being stopped at the end')
})

t.test('subscribe sees every change; stop (DELETE) ends it and its remaining steps never run', async t => {
  const { app, clock, cookie } = await setup(t)
  const start = clock.now()
  const seen: string[] = []
  const unsubscribe = app.kraken.scenarios.subscribe(s => seen.push(`${s.state} ${s.step}/${s.steps}`))
  await post(app, { name: 'outage-recovery' })
  await reach(app, clock, start, '0:30')
  t.equal((await post(app, { name: 'training-walkthrough' })).statusCode, 409, 'one scenario at a time')
  const stopped = await app.inject({ method: 'DELETE', url: PATH })
  t.equal(stopped.statusCode, 200)
  t.match(stopped.json(), { status: { state: 'stopped', step: 2, last: 'stopped by DELETE /_emulator/scenarios' } })
  await reach(app, clock, start, '1:30')
  t.equal((await statusOf(app, cookie, UAV_720P)).status, 'error', 'the 1:15 and 1:30 steps never ran')
  t.same(seen, ['running 0/10', 'running 1/10', 'running 2/10', 'stopped 2/10'])
  unsubscribe()
  t.equal((await post(app, { name: 'outage-recovery' })).statusCode, 202, 'a new one may start once it stopped')
  t.equal(seen.length, 4, 'an unsubscribed listener hears nothing more')
  t.equal((await app.inject({ method: 'DELETE', url: PATH })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: PATH })).statusCode, 200, 'stopping twice is a no-op')
})

t.test('a reset stops the scenario', async t => {
  const { app } = await setup(t)
  await post(app, { name: 'outage-recovery' })
  await app.kraken.reset()
  t.match(app.kraken.scenarios.status(), { state: 'stopped', last: 'the emulator was reset' })
})

t.test('a step that fails ends the scenario as failed, saying why', async t => {
  const { app, clock } = await setup(t)
  const start = clock.now()
  const scenario = (steps: unknown[]) => ({ scenario: { format: FORMAT, name: 'broken', steps } })
  await post(app, scenario([
    { at: '0:01', call: { method: 'POST', path: '/apis/v2/streams/{stream:Gate Camera HEVC}/start', as: 'operator' } },
    { at: '0:02', call: { method: 'DELETE', path: '/apis/v2/streams/{stream:Gate Camera HEVC}', as: 'operator' } },
    { at: '0:03', call: { method: 'GET', path: '/apis/v2/license' } }
  ]))
  await reach(app, clock, start, '0:03')
  t.match(app.kraken.scenarios.status(), { state: 'failed', step: 1, last: /^step 2 \(0:02\) failed: DELETE \/apis\/v2\/streams\/d2081b9b-a37c-4bcb-a795-d1aebcaba5ed answered 409: .*stop it first/ })

  await post(app, scenario([{ at: '0:00', event: { type: 'input-lost', stream: '{stream:No Such Stream}' } }]))
  await app.kraken.scenarios.idle()
  t.match(app.kraken.scenarios.status(), { state: 'failed', step: 0, last: "step 1 (0:00) failed: no stream is named 'No Such Stream'" })

  await post(app, scenario([{ at: '0:00', call: { method: 'GET', path: '/apis/v2/license', as: 'nobody' } }]))
  await app.kraken.scenarios.idle()
  t.match(app.kraken.scenarios.status(), { state: 'failed', last: /no account is named 'nobody'/ })

  await post(app, scenario([{ at: '0:00', call: { method: 'POST', path: '/apis/v2/streams/{stream:Gate Camera HEVC}/stop', as: 'user' } }]))
  await app.kraken.scenarios.idle()
  t.match(app.kraken.scenarios.status(), { state: 'failed', last: /answered 403/ }, 'a Viewer may not stop a stream: the call is role-checked like any client\'s')
})

t.test('a call the device never answers (unreachable, a reset fault) fails the step instead of hanging', async t => {
  const { app } = await setup(t)
  await post(app, { scenario: { format: FORMAT, name: 'dark', steps: [{ at: '0:00', event: { type: 'unreachable', duration_ms: 60_000 } }, { at: '0:00', call: { method: 'GET', path: '/apis/v2/streams' } }] } })
  await app.kraken.scenarios.idle()
  t.match(app.kraken.scenarios.status(), { state: 'failed', step: 1, last: /step 2 \(0:00\) failed: GET \/apis\/v2\/streams: the connection was closed without an answer/ })
  await app.kraken.reset()
  const fault = await app.inject({ method: 'POST', url: '/_emulator/faults', payload: { match: { path: '/apis/v2/license' }, action: { type: 'reset' } } })
  t.equal(fault.statusCode, 201, fault.body)
  await post(app, { scenario: { format: FORMAT, name: 'cut', steps: [{ at: '0:00', call: { method: 'GET', path: '/apis/v2/license' } }] } })
  await app.kraken.scenarios.idle()
  t.match(app.kraken.scenarios.status(), { state: 'failed', last: /the connection was closed without an answer/ })
})

t.test('bad scenarios are 400s naming the place of the problem; nothing starts', async t => {
  const { app } = await setup(t)
  const step = { at: '0:10', call: { method: 'GET', path: '/apis/v2/streams' } }
  const doc = (over: Record<string, unknown>) => ({ scenario: { format: FORMAT, name: 'x', steps: [step], ...over } })
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a later format version', doc({ format: 'kraken-emulator-scenario/2' }), 'format', /is version 2; this emulator plays version 1/],
    ['another format', doc({ format: 'something' }), 'format', /must be "kraken-emulator-scenario\/1"/],
    ['no format', { scenario: { name: 'x', steps: [step] } }, 'format', /is required/],
    ['no steps', doc({ steps: [] }), 'steps', /fewer than 1/],
    ['a bad time', doc({ steps: [{ ...step, at: 'soon' }] }), 'steps.0.at', /"soon" is not a time/],
    ['60 minutes in h:mm:ss', doc({ steps: [{ ...step, at: '1:60:00' }] }), 'steps.0.at', /not a time/],
    ['steps out of order', doc({ steps: [step, { ...step, at: '0:05' }] }), 'steps.1.at', /comes before the previous step \(0:10\)/],
    ['both call and event', doc({ steps: [{ ...step, event: { type: 'reboot' } }] }), 'steps.0', /exactly one of call and event/],
    ['neither', doc({ steps: [{ at: '0:01' }] }), 'steps.0', /exactly one of call and event/],
    ['a path outside the API', doc({ steps: [{ at: '0:01', call: { method: 'POST', path: '/_emulator/reset' } }] }), 'steps.0.call.path', /pattern/],
    ['a method the API has not', doc({ steps: [{ at: '0:01', call: { method: 'PATCH', path: '/apis/v2/streams' } }] }), 'steps.0.call.method', /./],
    ['a GET with a body', doc({ steps: [{ at: '0:01', call: { method: 'GET', path: '/apis/v2/streams', body: {} } }] }), 'steps.0.call.body', /sends no body/],
    ['an unknown field', doc({ steps: [{ ...step, wait: 1 }] }), 'steps.0.wait', /./],
    ['a wrong-typed name', doc({ name: 5 }), 'name', /string/],
    ['too many steps', doc({ steps: Array.from({ length: 1001 }, () => step) }), 'steps', /more than 1000/],
    ['both name and scenario', { name: 'outage-recovery', ...doc({}) }, 'scenario', /cannot be given with scenario/],
    ['neither name nor scenario', {}, 'name', /required unless scenario/],
    ['an unknown shipped name', { name: 'nope' }, 'name', /names no shipped scenario \(outage-recovery, training-walkthrough\)/],
    ['a path as a name', { name: '../fixtures/default/inputs' }, 'name', /pattern/],
    ['a scenario that is not an object', { scenario: [] }, 'scenario', /object/]
  ]
  for (const [what, body, field, message] of cases) {
    const res = await post(app, body)
    t.equal(res.statusCode, 400, `${what}: ${res.body}`)
    const error = envelopeOf(res)
    t.equal(error.type, 'Validation', what)
    const detail = error.details.find(d => d.field === field)
    t.ok(detail !== undefined && message.test(detail.message), `${what}: ${field} ${message} in ${JSON.stringify(error.details)}`)
  }
  const malformed = await app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(malformed.statusCode, 400)
  t.equal(envelopeOf(malformed).type, 'Validation')
  const text = await app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'text/plain' }, payload: 'outage-recovery' })
  t.equal(text.statusCode, 415)
  const huge = await post(app, { scenario: { format: FORMAT, name: 'x', description: 'x'.repeat(1024 * 1024), steps: [step] } })
  t.equal(huge.statusCode, 413)
  t.same((await app.inject({ method: 'GET', url: PATH })).json(), { status: null, shipped: ['outage-recovery', 'training-walkthrough'] }, 'nothing started')
})

t.test('control routes: refused from another origin, and without the token when one is in force; events carry it', async t => {
  const { app, clock } = await setup(t, { host: '0.0.0.0', controlToken: 'scenario-secret' })
  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    const headers = { origin: 'https://evil.example', 'x-kraken-control-token': 'scenario-secret', 'content-type': 'application/json' }
    const foreign = await app.inject({ method, url: PATH, headers, ...(method === 'POST' && { payload: '{"name":"outage-recovery"}' }) })
    t.equal(foreign.statusCode, 403, `${method} from another origin`)
    t.equal(envelopeOf(foreign).type, 'ControlAuthorization')
    const anonymous = await app.inject({ method, url: PATH, headers: { 'content-type': 'application/json' }, ...(method === 'POST' && { payload: '{"name":"outage-recovery"}' }) })
    t.equal(anonymous.statusCode, 401, `${method} without the token`)
    t.equal(envelopeOf(anonymous).type, 'ControlAuthentication')
  }
  const session = await login(app)
  const withSession = await app.inject({ method: 'GET', url: PATH, headers: { cookie: session } })
  t.equal(withSession.statusCode, 401, 'a device session is no control token')
  t.equal(app.kraken.scenarios.status(), undefined, 'nothing started')

  const start = clock.now()
  const ok = await post(app, { name: 'outage-recovery' }, { 'x-kraken-control-token': 'scenario-secret' })
  t.equal(ok.statusCode, 202)
  await reach(app, clock, start, '0:30')
  t.match(app.kraken.scenarios.status(), { step: 2, state: 'running' }, 'the device event went through with the token')
})
