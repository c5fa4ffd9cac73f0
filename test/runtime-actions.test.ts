import t from 'tap'
import { call, envelopeOf, login, USERS } from './helpers/app.ts'
import { INPUT_UDP, OUTPUT_1, S, TRANSCODER_720, makeRuntimeApp, streamUrl } from './helpers/runtime.ts'

type StreamBody = { uuid: string, status: string, sub_status: string }

t.test('start and stop walk the state machine, each step taking --transition-ms of the clock', async t => {
  const { app, clock } = await makeRuntimeApp({ transitionMs: 1000 })
  t.teardown(() => app.close())
  const cookie = await login(app, USERS.Operator)
  const status = async () => ((await call(app, cookie, 'GET', streamUrl(S.hevcUplink))).json() as StreamBody).status

  t.equal(await status(), 'stopped')
  const started = await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  t.equal(started.statusCode, 200)
  t.match(started.json(), { uuid: S.hevcUplink, name: 'HEVC uplink', status: 'starting', sub_status: '' }, 'answers with the stream')
  clock.advance(999)
  t.equal(await status(), 'starting', 'still starting 1 ms before the transition ends')
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))).json().status, 'starting', 'start while starting: no-op')
  clock.advance(1)
  t.equal(await status(), 'running', 'running once the transition time has passed')

  const again = await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  t.equal(again.statusCode, 200, 'starting a running stream is a no-op 200')
  t.equal(again.json().status, 'running')

  const stopping = await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/stop'))
  t.equal(stopping.statusCode, 200)
  t.equal(stopping.json().status, 'stopping')
  clock.advance(500)
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/stop'))).json().status, 'stopping', 'stop while stopping: no-op')
  const refused = await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  t.equal(refused.statusCode, 409, 'a stopping stream cannot be started')
  t.equal(envelopeOf(refused).type, 'Conflict')
  clock.advance(499)
  t.equal(await status(), 'stopping')
  clock.advance(1)
  t.equal(await status(), 'stopped')
  const noop = await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/stop'))
  t.equal(noop.statusCode, 200, 'stopping a stopped stream is a no-op 200')
  t.equal(noop.json().status, 'stopped')
})

t.test('stop during starting aborts the start', async t => {
  const { app, clock } = await makeRuntimeApp({ transitionMs: 1000 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  clock.advance(400)
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/stop'))).json().status, 'stopping')
  clock.advance(5000)
  t.equal(app.kraken.runtime.state(S.hevcUplink).status, 'stopped', 'the aborted start never reaches running')
})

t.test('with --transition-ms 0 transitions happen before the reply; POST works like PUT; bare ids work', async t => {
  const { app } = await makeRuntimeApp({ transitionMs: 0 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  const started = await call(app, cookie, 'POST', `/apis/v2/streams/${S.hevcUplink}/start`)
  t.equal(started.statusCode, 200)
  t.equal(started.json().status, 'running')
  const listed = (await call(app, cookie, 'GET', '/apis/v2/streams')).json() as { stream_list: StreamBody[] }
  t.equal(listed.stream_list.find(s => s.uuid === S.hevcUplink)?.status, 'running', 'the list shows the live status')
  const stopped = await call(app, cookie, 'POST', streamUrl(S.hevcUplink, '/stop'))
  t.equal(stopped.json().status, 'stopped')
  const body = await app.inject({ method: 'PUT', url: streamUrl(S.hevcUplink, '/start'), headers: { cookie, 'content-type': 'application/json' }, payload: '{}' })
  t.equal(body.statusCode, 200, 'a JSON body is accepted and ignored')
})

t.test('unknown streams get 404 in the envelope', async t => {
  const { app } = await makeRuntimeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  const missing = '5e000000-0000-4000-8000-0000000000ff'
  for (const [method, suffix] of [['PUT', '/start'], ['POST', '/stop'], ['GET', '/statistics'], ['PUT', '/statistics/reset']] as const) {
    const res = await call(app, cookie, method, streamUrl(missing, suffix))
    t.equal(res.statusCode, 404, `${method} ${suffix}`)
    t.equal(envelopeOf(res).type, 'NotFound')
  }
})

t.test('roles: Operators and Administrators start and stop; Viewers read statistics only', async t => {
  const { app } = await makeRuntimeApp()
  t.teardown(() => app.close())
  const viewer = await login(app, USERS.Viewer)
  const operator = await login(app, USERS.Operator)
  for (const [method, suffix] of [['PUT', '/start'], ['POST', '/start'], ['PUT', '/stop'], ['POST', '/stop'], ['PUT', '/statistics/reset']] as const) {
    const res = await call(app, viewer, method, streamUrl(S.hevcUplink, suffix))
    t.equal(res.statusCode, 403, `Viewer ${method} ${suffix}`)
    t.equal(envelopeOf(res).type, 'SessionAuthorization')
    t.equal((await call(app, undefined, method, streamUrl(S.hevcUplink, suffix))).statusCode, 401, `no session: ${method} ${suffix}`)
  }
  t.equal(app.kraken.runtime.state(S.hevcUplink).status, 'stopped', 'refused calls changed nothing')
  t.equal((await call(app, viewer, 'GET', streamUrl(S.hevcUplink, '/statistics'))).statusCode, 200, 'Viewer reads statistics')
  t.equal((await call(app, operator, 'PUT', streamUrl(S.hevcUplink, '/start'))).statusCode, 200, 'Operator starts')
  t.equal((await call(app, operator, 'PUT', streamUrl(S.hevcUplink, '/statistics/reset'))).statusCode, 200, 'Operator resets statistics')
  t.equal((await call(app, operator, 'PUT', streamUrl(S.hevcUplink, '/stop'))).statusCode, 200, 'Operator stops')
})

t.test('licence: max_encoders transcoding sessions, Bypass streams free, counts in GET /apis/v2/license', async t => {
  // The runtime fixture licenses 2 encoders and auto-starts one transcoding and one Bypass stream.
  const { app, clock } = await makeRuntimeApp({ transitionMs: 1000 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  const license = async () => (await call(app, cookie, 'GET', '/apis/v2/license')).json() as Record<string, unknown>
  t.match(await license(), { max_encoders: 2, active_transcoder_sessions: 1, active_bypass_sessions: 1 }, 'auto-start sessions, counted while starting')
  clock.advance(1000)

  t.equal((await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))).statusCode, 200, 'second encoder')
  t.match(await license(), { active_transcoder_sessions: 2 }, 'a starting stream holds its session')
  const third = await call(app, cookie, 'PUT', streamUrl(S.passthru, '/start'))
  t.equal(third.statusCode, 409, 'max_encoders + 1 transcoding streams: refused')
  const error = envelopeOf(third)
  t.equal(error.type, 'Conflict')
  t.match(error.message, /max_encoders 2/)
  t.equal(app.kraken.runtime.state(S.passthru).status, 'stopped', 'the refused stream stays stopped')

  t.equal((await call(app, cookie, 'PUT', streamUrl(S.rtmpRelay, '/start'))).statusCode, 200, 'Bypass needs no encoder')
  clock.advance(1000)
  t.match(await license(), { active_transcoder_sessions: 2, active_bypass_sessions: 2 })

  await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/stop'))
  t.match(await license(), { active_transcoder_sessions: 2 }, 'a stopping stream still holds its session')
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.passthru, '/start'))).statusCode, 409, 'so the licence is still full')
  clock.advance(1000)
  t.match(await license(), { active_transcoder_sessions: 1 }, 'released once stopped')
  t.equal((await call(app, cookie, 'PUT', streamUrl(S.passthru, '/start'))).statusCode, 200, 'the freed session is usable')
  t.same(app.kraken.runtime.counts(), { transcoder: 2, bypass: 2 })
})

t.test('a running stream, and what it uses, cannot be changed or deleted until it is stopped', async t => {
  const { app } = await makeRuntimeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  // Camera 720p auto-started: it uses INPUT_UDP, TRANSCODER_720 and OUTPUT_1.
  t.equal(app.kraken.runtime.state(S.camera720).status, 'running')
  const refusals: Array<[string, string, unknown]> = [
    ['PUT', streamUrl(S.camera720), { description: 'renamed while live' }],
    ['DELETE', streamUrl(S.camera720), undefined],
    ['DELETE', `/apis/v2/transcoders/transcoder-${TRANSCODER_720}`, undefined],
    ['DELETE', `/apis/v2/inputs/input-${INPUT_UDP}`, undefined],
    ['DELETE', `/apis/v2/outputs/output-${OUTPUT_1}`, undefined],
    ['PUT', `/apis/v2/transcoders/transcoder-${TRANSCODER_720}`, { video_bitrate: 3000 }]
  ]
  const before = app.kraken.store.snapshot()
  for (const [method, url, body] of refusals) {
    const res = await call(app, cookie, method, url, body)
    t.equal(res.statusCode, 409, `${method} ${url}`)
    t.equal(envelopeOf(res).type, 'Conflict')
  }
  t.same(app.kraken.store.snapshot(), before, 'nothing changed')

  await call(app, cookie, 'PUT', streamUrl(S.camera720, '/stop'))
  const changed = await call(app, cookie, 'PUT', streamUrl(S.camera720), { description: 'changed while stopped' })
  t.equal(changed.statusCode, 200, 'a stopped stream can be changed')
  t.equal(changed.json().description, 'changed while stopped')
})
