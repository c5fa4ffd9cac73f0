import t from 'tap'
import { call, login, USERS } from './helpers/app.ts'
import { S, makeRuntimeApp, streamUrl } from './helpers/runtime.ts'
import type { KrakenApp } from '../src/app.ts'
import type { StreamStatistics } from '../src/runtime/stream-runtime.ts'

async function stats (app: KrakenApp, cookie: string, uuid: string): Promise<StreamStatistics> {
  const res = await call(app, cookie, 'GET', streamUrl(uuid, '/statistics'))
  if (res.statusCode !== 200) throw new Error(`statistics: ${res.statusCode} ${res.body}`)
  return res.json() as StreamStatistics
}

/** Every counter of the statistics, by dotted name. */
function counters (s: StreamStatistics): Record<string, number> {
  const out: Record<string, number> = { uptime: s.uptime }
  for (const [name, group] of [['input', s.input], ['output', s.output], ['decoder', s.decoder], ['encoder', s.encoder]] as const) {
    for (const key of ['packets', 'bytes', 'packets_lost', 'cc_errors', 'dropped', 'frames_decoded', 'frames_dropped', 'frames_encoded']) {
      const value = (group as Record<string, unknown> | null)?.[key]
      if (typeof value === 'number') out[`${name}.${key}`] = value
    }
  }
  return out
}

// Seed 42, the runtime fixture, the manual clock: Camera 720p (auto-started at t=0) one minute in.
// (Signals are keyed by the stream's and the input's names since issue 16.)
const CAMERA_AT_60S: StreamStatistics = {
  uptime: 60,
  overall_rate: 2719462,
  input_rate: 7846083,
  resolution: '1280x720',
  fps: 30.01,
  latency_ms: 462,
  input: { bitrate: 7846083, packets: 45823, bytes: 60303482, packets_lost: 0, cc_errors: 0 },
  output: { destinations: 1, bitrate: 2719462, packets: 15567, bytes: 20486374, dropped: 0 },
  decoder: { frames_decoded: 1800, frames_dropped: 0 },
  encoder: { format: 'h264', bitrate: 2487507, frames_encoded: 1800, gop_size: 60, qp: 26 }
}

t.test('with a seed and an advanced clock the statistics are exact', async t => {
  const { app, clock } = await makeRuntimeApp({ seed: 42 })
  t.teardown(() => app.close())
  const cookie = await login(app, USERS.Viewer)
  clock.advance(60_000)
  t.same(await stats(app, cookie, S.camera720), CAMERA_AT_60S)
  t.same(await stats(app, cookie, S.camera720), CAMERA_AT_60S, 'asking again at the same instant changes nothing')
})

t.test('values depend on the seed and the time, not on the order or number of requests', async t => {
  const a = await makeRuntimeApp({ seed: 42 })
  const b = await makeRuntimeApp({ seed: 42 })
  const c = await makeRuntimeApp({ seed: 43 })
  t.teardown(async () => { await a.app.close(); await b.app.close(); await c.app.close() })
  const [ca, cb, cc] = await Promise.all([login(a.app), login(b.app), login(c.app)])
  // a is asked every 7 s, b only at the end.
  for (let i = 0; i < 10; i++) {
    a.clock.advance(7_000)
    await stats(a.app, ca, S.camera720)
    await stats(a.app, ca, S.relay)
  }
  b.clock.advance(70_000)
  c.clock.advance(70_000)
  t.same(await stats(b.app, cb, S.relay), await stats(a.app, ca, S.relay))
  t.same(await stats(b.app, cb, S.camera720), await stats(a.app, ca, S.camera720))
  t.not((await stats(c.app, cc, S.camera720)).overall_rate, (await stats(a.app, ca, S.camera720)).overall_rate, 'another seed gives other values')
})

t.test('a stopped stream reports zeros; a Bypass stream has encoder null', async t => {
  const { app } = await makeRuntimeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  const zeros = {
    uptime: 0, overall_rate: 0, input_rate: 0, resolution: '0x0', fps: 0, latency_ms: 0,
    input: { bitrate: 0, packets: 0, bytes: 0, packets_lost: 0, cc_errors: 0 },
    output: { destinations: 0, bitrate: 0, packets: 0, bytes: 0, dropped: 0 },
    decoder: { frames_decoded: 0, frames_dropped: 0 }
  }
  t.same(await stats(app, cookie, S.hevcUplink), { ...zeros, encoder: { format: '', bitrate: 0, frames_encoded: 0, gop_size: 0, qp: 0 } }, 'stopped transcoding stream')
  t.same(await stats(app, cookie, S.rtmpRelay), { ...zeros, encoder: null }, 'stopped Bypass stream: the key is there, null')
  const relay = await stats(app, cookie, S.relay)
  t.equal(relay.encoder, null, 'running Bypass stream: no encoder')
  t.equal(relay.resolution, '1920x1080', 'Bypass shows the source resolution')
})

t.test('running values follow the configuration and vary a little', async t => {
  const { app, clock } = await makeRuntimeApp({ seed: 5 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  const rates = new Set<number>()
  for (let i = 0; i < 30; i++) {
    clock.advance(10_000)
    const camera = await stats(app, cookie, S.camera720)
    // 2500 kbps video + 128 kbps audio in MPEG-TS.
    t.ok(Math.abs(camera.overall_rate / 2_733_120 - 1) < 0.02, `overall_rate ${camera.overall_rate} near the transcoder's 2.6 Mbps`)
    t.ok(Math.abs(camera.encoder!.bitrate / 2_500_000 - 1) < 0.02, 'encoder bitrate near video_bitrate')
    t.ok(Math.abs(camera.fps - 30) < 0.1, `fps ${camera.fps} near the source's 30 ("auto")`)
    rates.add(camera.overall_rate)
    const hevc = await stats(app, cookie, S.hevcUplink)
    t.equal(hevc.resolution, '1920x1080', 'width/height 0 keep the source resolution')
    t.ok(Math.abs(hevc.fps - 25) < 0.1, 'the transcoder framerate 25 applies')
    t.ok(hevc.latency_ms > 600, 'an SRT input adds its latency (250 ms)')
    t.equal(hevc.encoder?.format, 'hevc')
  }
  t.ok(rates.size > 20, 'the rate is not constant')
})

t.test('counters never decrease while a stream runs; reset zeroes them; a restart starts from zero', async t => {
  // A day-long session: the clock jumps by an hour.
  const { app, clock } = await makeRuntimeApp({ seed: 9, sessionTimeout: 86_400 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  let previous = counters(await stats(app, cookie, S.camera720))
  // Uneven steps, from 1 ms to an hour.
  for (const ms of [1, 999, 3_000, 17, 60_000, 250, 3_600_000, 1, 42_000, 7]) {
    clock.advance(ms)
    const current = counters(await stats(app, cookie, S.camera720))
    for (const [name, value] of Object.entries(current)) t.ok(value >= previous[name]!, `${name} ${previous[name]} -> ${value}`)
    previous = current
  }
  t.ok(previous['input.packets_lost']! > 0, 'over an hour some datagrams are lost')

  const reset = await call(app, cookie, 'PUT', streamUrl(S.camera720, '/statistics/reset'))
  t.equal(reset.statusCode, 200)
  const zeroed = counters(reset.json() as StreamStatistics)
  for (const [name, value] of Object.entries(zeroed)) {
    if (name === 'uptime') t.equal(value, previous.uptime, 'uptime is not a counter a reset clears')
    else t.equal(value, 0, `${name} zeroed`)
  }
  clock.advance(30_000)
  const after = await stats(app, cookie, S.camera720)
  t.equal(after.decoder.frames_decoded, 900, 'counting again from the reset: 30 s at 30 fps')
  t.ok(after.input.bytes > 0 && after.input.bytes < 31_000_000, 'about 30 s of an 8 Mbps input')

  await call(app, cookie, 'PUT', streamUrl(S.camera720, '/stop'))
  t.same(counters(await stats(app, cookie, S.camera720)), Object.fromEntries(Object.keys(previous).map(k => [k, 0])), 'stopped: zeros')
  await call(app, cookie, 'PUT', streamUrl(S.camera720, '/start'))
  clock.advance(2_000)
  const restarted = await stats(app, cookie, S.camera720)
  t.equal(restarted.uptime, 2, 'uptime counts from the new start')
  t.equal(restarted.decoder.frames_decoded, 60)
})

t.test('statistics stay zero while a stream is starting', async t => {
  const { app, clock } = await makeRuntimeApp({ transitionMs: 1000 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  await call(app, cookie, 'PUT', streamUrl(S.hevcUplink, '/start'))
  clock.advance(999)
  t.equal((await stats(app, cookie, S.hevcUplink)).overall_rate, 0)
  clock.advance(1)
  clock.advance(1500)
  const running = await stats(app, cookie, S.hevcUplink)
  t.equal(running.uptime, 1, 'uptime counts from reaching running, not from the request')
  t.ok(running.overall_rate > 0)
})
