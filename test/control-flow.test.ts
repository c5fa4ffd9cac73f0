// The client flow of issue 16's acceptance 1, over a real HTTPS port: start a stream, advance ten
// minutes, statistics grew by exactly what the model gives, input-lost shows in the item and the
// polled list, recovery after recover_after_ms, then a snapshot restored.
import t from 'tap'
import { send, startHttps, loginHttps } from './helpers/https.ts'
import { advance, deviceEvent, statistics, streamStatus, GATE_HEVC } from './helpers/control.ts'
import { profileOf } from '../src/runtime/stream-profile.ts'
import { StreamSignal } from '../src/runtime/stream-statistics.ts'

const SEED = 11

t.test('start, advance 10 minutes, input-lost, recover, restore', async t => {
  const emu = await startHttps({ clock: 'manual', seed: SEED, transitionMs: 1000 })
  t.teardown(() => emu.close())
  let cookie = await loginHttps(emu)
  const startedAt = emu.clock.now()

  t.equal((await send(emu, 'POST', `/apis/v2/streams/${GATE_HEVC}/start`, { cookie })).status, 200)
  await advance(emu, 1000)
  t.equal((await streamStatus(emu, cookie, GATE_HEVC)).item.status, 'running')
  const before = await statistics(emu, cookie, GATE_HEVC)
  t.equal(before.uptime, 0)

  await advance(emu, 600_000)
  const after = await statistics(emu, cookie, GATE_HEVC)
  t.equal(after.uptime, 600, '600 s of uptime')
  t.equal(after.decoder.frames_decoded - before.decoder.frames_decoded, 25 * 600, 'a 25 fps RTSP source: 15000 frames decoded')
  // The exact counters: the model's for a run from t=1 s to t=601 s of this seed's signal.
  const store = emu.app.kraken.store
  const stream = store.get('streams', GATE_HEVC)
  if (stream === undefined) throw new Error('fixture stream missing')
  const model = new StreamSignal(profileOf(store, stream), SEED, String(stream.name)).counters({ since: 1, now: 601 })
  t.match(after, { input: model.input, output: model.output, decoder: model.decoder, encoder: model.encoder }, 'every counter is what its rate gives over those 600 s')
  t.equal(emu.clock.now() - startedAt, 601_000)

  t.equal((await send(emu, 'POST', '/_emulator/snapshots', { body: { name: 'ten-minutes' } })).status, 201)

  const lost = await deviceEvent(emu, { type: 'input-lost', stream: GATE_HEVC, recover_after_ms: 45_000 })
  t.same(lost.json(), { type: 'input-lost', streams: [GATE_HEVC] })
  const failed = await streamStatus(emu, cookie, GATE_HEVC)
  t.equal(failed.item.status, 'error', 'the item is in error')
  t.equal(failed.item.sub_status, "input lost: nothing arrives from input 'Gate Camera (RTSP)'", 'with its reason')
  t.same(failed.listed, failed.item, 'the polled list says the same')

  await advance(emu, 45_001)
  cookie = await loginHttps(emu)
  t.same((await streamStatus(emu, cookie, GATE_HEVC)).item, { status: 'running', sub_status: '' }, 'running again after recover_after_ms')
  t.equal((await statistics(emu, cookie, GATE_HEVC)).uptime, 0, 'a new run')

  t.equal((await send(emu, 'POST', '/_emulator/snapshots/ten-minutes/restore')).status, 200)
  t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).status, 401, 'the restore ended the session')
  cookie = await loginHttps(emu)
  t.same(await statistics(emu, cookie, GATE_HEVC), after, 'the stream is back at ten minutes, counters and all')
})
