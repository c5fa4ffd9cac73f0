// Device events (issue 16): what goes wrong on a real Kraken, injected through
// POST /_emulator/device/events, seen by a client polling the device, over a real HTTPS port.
import t, { type Test } from 'tap'
import { send, startHttps, loginHttps } from './helpers/https.ts'
import { advance, deviceEvent, statistics, streamStatus, GATE_HEVC, PRESS_BYPASS, UAV_720P, UAV_INPUT, UAV_PASSTHRU } from './helpers/control.ts'

type Emu = Awaited<ReturnType<typeof startHttps>>

async function setup (t: Test, options: Parameters<typeof startHttps>[0] = {}): Promise<{ emu: Emu, cookie: string }> {
  // The default fixture auto-starts UAV_720P and UAV_PASSTHRU (transcoders fed by one input on eth1).
  const emu = await startHttps({ clock: 'manual', ...options })
  t.teardown(() => emu.close())
  return { emu, cookie: await loginHttps(emu) }
}

const license = async (emu: Emu, cookie: string) => (await send(emu, 'GET', '/apis/v2/license', { cookie })).json() as { active_transcoder_sessions: number, max_encoders: number, is_license_valid: boolean }

t.test('input-lost: the stream goes to error with its reason, and recovers after recover_after_ms', async t => {
  const { emu, cookie } = await setup(t)
  const res = await deviceEvent(emu, { type: 'input-lost', stream: UAV_720P, recover_after_ms: 30_000 })
  t.equal(res.status, 200)
  t.same(res.json(), { type: 'input-lost', streams: [UAV_720P] })
  const { item, listed } = await streamStatus(emu, cookie, UAV_720P)
  t.equal(item.status, 'error')
  t.match(item.sub_status, /^input lost: nothing arrives from input 'UAV-1/)
  t.same(listed, item, 'the polled list (full) shows the same')
  const summary = (await send(emu, 'GET', '/apis/v2/streams', { cookie })).json() as { stream_list: Array<{ uuid: string, status: string }> }
  t.equal(summary.stream_list.find(s => s.uuid === UAV_720P)?.status, 'error', 'and the summary list shows the status')
  t.equal((await statistics(emu, cookie, UAV_720P)).uptime, 0, 'statistics are zeros')
  t.equal((await license(emu, cookie)).active_transcoder_sessions, 1, 'its licence session is free')
  t.equal((await streamStatus(emu, cookie, UAV_PASSTHRU)).item.status, 'running', 'the other stream is untouched')
  await advance(emu, 29_999)
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'error', 'still in error just before')
  await advance(emu, 1)
  t.same((await streamStatus(emu, cookie, UAV_720P)).item, { status: 'running', sub_status: '' }, 'running again')
  await advance(emu, 10_000)
  t.equal((await statistics(emu, cookie, UAV_720P)).uptime, 10, 'counters start again from the recovery')
})

t.test('input-lost by input hits every stream it feeds; without recover_after_ms they stay in error until stopped', async t => {
  const { emu } = await setup(t)
  const res = await deviceEvent(emu, { type: 'input-lost', input: UAV_INPUT })
  t.same((res.json() as { streams: string[] }).streams.sort(), [UAV_720P, UAV_PASSTHRU].sort())
  await advance(emu, 86_400_000)
  const cookie = await loginHttps(emu)
  t.equal((await streamStatus(emu, cookie, UAV_PASSTHRU)).item.status, 'error', 'a day later, still in error')
  await send(emu, 'POST', `/apis/v2/streams/${UAV_PASSTHRU}/stop`, { cookie })
  t.same((await streamStatus(emu, cookie, UAV_PASSTHRU)).item, { status: 'stopped', sub_status: '' }, 'stopping clears it')
  await send(emu, 'POST', `/apis/v2/streams/${UAV_PASSTHRU}/start`, { cookie })
  t.equal((await streamStatus(emu, cookie, UAV_PASSTHRU)).item.status, 'running', 'and it starts again')
})

t.test('output-unreachable hits the stream that feeds the output', async t => {
  const { emu, cookie } = await setup(t)
  const res = await deviceEvent(emu, { type: 'output-unreachable', output: '564327cf-7c71-488b-92eb-f77c170f238a' })
  t.same((res.json() as { streams: string[] }).streams, [UAV_PASSTHRU])
  const { item } = await streamStatus(emu, cookie, UAV_PASSTHRU)
  t.equal(item.status, 'error')
  t.match(item.sub_status, /^output unreachable: output 'UAV-1 Low-Band 480p'/)
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'running')
})

t.test('encoder-failure hits transcoders, not Bypass streams', async t => {
  const { emu, cookie } = await setup(t)
  await send(emu, 'POST', `/apis/v2/streams/${PRESS_BYPASS}/start`, { cookie })
  const refused = await deviceEvent(emu, { type: 'encoder-failure', stream: PRESS_BYPASS })
  t.equal(refused.status, 409, 'a Bypass stream encodes nothing')
  const res = await deviceEvent(emu, { type: 'encoder-failure', recover_after_ms: 5000 })
  t.same((res.json() as { streams: string[] }).streams.sort(), [UAV_720P, UAV_PASSTHRU].sort())
  t.same((await streamStatus(emu, cookie, UAV_720P)).item, { status: 'error', sub_status: 'encoder failure: the encoder process stopped' })
  t.equal((await streamStatus(emu, cookie, PRESS_BYPASS)).item.status, 'running')
  await advance(emu, 5000)
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'running')
  t.equal((await streamStatus(emu, cookie, UAV_PASSTHRU)).item.status, 'running')
})

t.test('licence-expired: transcoders fall to error, new ones cannot start, Bypass goes on', async t => {
  const { emu, cookie } = await setup(t)
  await send(emu, 'POST', `/apis/v2/streams/${PRESS_BYPASS}/start`, { cookie })
  const res = await deviceEvent(emu, { type: 'licence-expired' })
  t.same((res.json() as { streams: string[] }).streams.sort(), [UAV_720P, UAV_PASSTHRU].sort())
  const lic = await license(emu, cookie)
  t.equal(lic.is_license_valid, false)
  t.equal(lic.active_transcoder_sessions, 0)
  t.match((await streamStatus(emu, cookie, UAV_720P)).item, { status: 'error', sub_status: /^licence: not valid/ })
  t.equal((await streamStatus(emu, cookie, PRESS_BYPASS)).item.status, 'running')
  t.equal((await send(emu, 'POST', `/apis/v2/streams/${GATE_HEVC}/start`, { cookie })).status, 409, 'no transcoder starts')
})

t.test('licence-changed: transcoders beyond max_encoders fall to error, and run again when sessions are freed', async t => {
  const { emu, cookie } = await setup(t)
  const res = await deviceEvent(emu, { type: 'licence-changed', max_encoders: 1 })
  t.same((res.json() as { streams: string[] }).streams, [UAV_PASSTHRU], 'the stream started last loses its session')
  const lic = await license(emu, cookie)
  t.equal(lic.max_encoders, 1)
  t.equal(lic.active_transcoder_sessions, 1)
  t.match((await streamStatus(emu, cookie, UAV_PASSTHRU)).item, { status: 'error', sub_status: /max_encoders is 1/ })
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'running')
  const back = await deviceEvent(emu, { type: 'licence-changed', max_encoders: 4 })
  t.same((back.json() as { streams: string[] }).streams, [UAV_PASSTHRU])
  t.equal((await streamStatus(emu, cookie, UAV_PASSTHRU)).item.status, 'running')
})

t.test('nic-down: speed 0, the streams using it fail (also one started meanwhile); nic-up brings them back', async t => {
  const { emu, cookie } = await setup(t)
  const down = await deviceEvent(emu, { type: 'nic-down', nic: 'eth1' })
  t.same((down.json() as { streams: string[] }).streams.sort(), [UAV_720P, UAV_PASSTHRU].sort())
  const nics = () => send(emu, 'GET', '/apis/v2/system/network', { cookie }).then(r => (r.json() as { nics: Array<{ name: string, speed: number }> }).nics)
  t.equal((await nics()).find(n => n.name === 'eth1')?.speed, 0, 'its speed is 0')
  t.same((await streamStatus(emu, cookie, UAV_720P)).item, { status: 'error', sub_status: 'network: the link of eth1 is down' })
  await send(emu, 'POST', `/apis/v2/streams/${GATE_HEVC}/start`, { cookie })
  t.same((await streamStatus(emu, cookie, GATE_HEVC)).item, { status: 'error', sub_status: 'network: the link of eth1 is down' }, 'a stream whose output is on eth1 fails to start')
  await send(emu, 'POST', `/apis/v2/streams/${PRESS_BYPASS}/start`, { cookie })
  t.equal((await streamStatus(emu, cookie, PRESS_BYPASS)).item.status, 'running', 'a stream on eth0 runs')
  const up = await deviceEvent(emu, { type: 'nic-up', nic: 'eth1' })
  t.same((up.json() as { streams: string[] }).streams.sort(), [UAV_720P, UAV_PASSTHRU, GATE_HEVC].sort())
  t.equal((await nics()).find(n => n.name === 'eth1')?.speed, 10000, 'the link speed is back')
  t.equal((await streamStatus(emu, cookie, GATE_HEVC)).item.status, 'running')
})

t.test('reboot and sessions-expired', async t => {
  const { emu, cookie } = await setup(t, { rebootMs: 10_000 })
  t.same((await deviceEvent(emu, { type: 'sessions-expired' })).json(), { type: 'sessions-expired', streams: [] })
  t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).status, 401, 'the session is gone')
  const reboot = await deviceEvent(emu, { type: 'reboot' })
  t.equal(reboot.status, 200)
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 503, 'rebooting')
  await advance(emu, 10_000)
  const fresh = await loginHttps(emu)
  t.equal((await streamStatus(emu, fresh, UAV_720P)).item.status, 'running', 'auto_start streams run after the boot')
})

t.test('unreachable: /apis resets the connection for a time while /_emulator answers', async t => {
  const { emu, cookie } = await setup(t)
  const res = await deviceEvent(emu, { type: 'unreachable', duration_ms: 30_000 })
  t.equal(res.status, 200)
  t.equal((res.json() as { until: string }).until, new Date(emu.clock.now() + 30_000).toISOString())
  await t.rejects(send(emu, 'GET', '/apis/v2/systeminfo', { cookie }), { code: 'UND_ERR_SOCKET' }, 'no HTTP answer: the connection is closed')
  await t.rejects(send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } }), 'login too')
  t.equal((await send(emu, 'GET', '/_emulator/health')).status, 200, '/_emulator answers')
  await advance(emu, 30_000)
  t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).status, 200, 'reachable again')
})

t.test('bad events are a 400 naming the field; an unknown type lists the valid ones', async t => {
  const { emu } = await setup(t)
  const unknown = await deviceEvent(emu, { type: 'meteor-strike' })
  t.equal(unknown.status, 400)
  const error = (unknown.json() as { error: { message: string, details: Array<{ field: string }> } }).error
  t.equal(error.details[0]?.field, 'type')
  for (const type of ['input-lost', 'output-unreachable', 'encoder-failure', 'licence-expired', 'licence-changed', 'nic-down', 'nic-up', 'reboot', 'sessions-expired', 'unreachable']) {
    t.ok(error.message.includes(type), `lists ${type}`)
  }
  const cases: Array<[unknown, string, number]> = [
    [{}, 'type', 400],
    [{ type: 'licence-changed' }, 'max_encoders', 400],
    [{ type: 'licence-changed', max_encoders: -1 }, 'max_encoders', 400],
    [{ type: 'nic-down' }, 'nic', 400],
    [{ type: 'nic-down', nic: 'eth9' }, 'nic', 400],
    [{ type: 'unreachable' }, 'duration_ms', 400],
    [{ type: 'unreachable', duration_ms: 0 }, 'duration_ms', 400],
    [{ type: 'reboot', nic: 'eth0' }, 'nic', 400],
    [{ type: 'input-lost', max_encoders: 2 }, 'max_encoders', 400],
    [{ type: 'input-lost', recover_after_ms: -5 }, 'recover_after_ms', 400],
    [{ type: 'input-lost', stream: 'no-such-stream' }, 'stream', 400],
    [{ type: 'input-lost', input: 'no-such-input' }, 'input', 400],
    [{ type: 'output-unreachable', output: 'nope' }, 'output', 400],
    [{ type: 'input-lost', colour: 'red' }, 'colour', 400],
    [{ type: 'input-lost', stream: GATE_HEVC }, 'stream', 409]
  ]
  for (const [body, field, status] of cases) {
    const res = await deviceEvent(emu, body)
    t.equal(res.status, status, `${JSON.stringify(body)} -> ${status}`)
    t.equal((res.json() as { error: { details: Array<{ field: string }> } }).error.details[0]?.field, field, `${JSON.stringify(body)} names ${field}`)
  }
  t.equal((await send(emu, 'POST', '/_emulator/device/events', { body: { type: 'reboot' }, headers: { origin: 'https://evil.example' } })).status, 403, 'another origin is refused')
})
