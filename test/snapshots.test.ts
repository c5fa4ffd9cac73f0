// Snapshots of the whole emulator (issue 16): store and runtime, not sessions, over a real HTTPS port.
import t from 'tap'
import { mkdtemp, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { send, startHttps, loginHttps } from './helpers/https.ts'
import { advance, deviceEvent, statistics, streamStatus, GATE_HEVC, UAV_720P, UAV_PASSTHRU } from './helpers/control.ts'

const NEW_INPUT = { name: 'snapshot input', protocol: 'ts_udp', url: 'udp://239.77.1.1:20000' }

t.test('restore puts back the store and the running streams with their counters, and ends sessions', async t => {
  const emu = await startHttps({ clock: 'manual', seed: 3 })
  t.teardown(() => emu.close())
  let cookie = await loginHttps(emu)
  await advance(emu, 120_000)
  const taken = await send(emu, 'POST', '/_emulator/snapshots', { body: { name: 'two-running' } })
  t.equal(taken.status, 201)
  t.match(taken.json(), { name: 'two-running', fixture: 'default', streams: 2, created: new Date(emu.clock.now()).toISOString() })
  const atSnapshot = await statistics(emu, cookie, UAV_720P)
  t.equal(atSnapshot.uptime, 120)

  // Change everything: a new input, a stream stopped, another started, one in error, time on.
  t.equal((await send(emu, 'POST', '/apis/v2/inputs', { cookie, body: NEW_INPUT })).status, 201)
  await send(emu, 'POST', `/apis/v2/streams/${UAV_PASSTHRU}/stop`, { cookie })
  await send(emu, 'POST', `/apis/v2/streams/${GATE_HEVC}/start`, { cookie })
  await deviceEvent(emu, { type: 'encoder-failure', stream: UAV_720P })
  await advance(emu, 3_600_000)
  cookie = await loginHttps(emu)

  const restored = await send(emu, 'POST', '/_emulator/snapshots/two-running/restore')
  t.equal(restored.status, 200)
  t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie })).status, 401, 'every session ended, as after a reset')
  cookie = await loginHttps(emu)
  const inputs = (await send(emu, 'GET', '/apis/v2/inputs', { cookie })).json() as { input_list: Array<{ name: string }> }
  t.notOk(inputs.input_list.some(i => i.name === NEW_INPUT.name), 'the input created since is gone')
  t.equal((await streamStatus(emu, cookie, UAV_720P)).item.status, 'running')
  t.equal((await streamStatus(emu, cookie, UAV_PASSTHRU)).item.status, 'running')
  t.equal((await streamStatus(emu, cookie, GATE_HEVC)).item.status, 'stopped')
  t.same(await statistics(emu, cookie, UAV_720P), atSnapshot, 'the statistics are those of the snapshot, to the byte')
  await advance(emu, 60_000)
  const later = await statistics(emu, cookie, UAV_720P)
  t.equal(later.uptime, 180, 'and go on from there')
  t.ok(later.input.bytes > atSnapshot.input.bytes)
  t.equal(emu.clock.now() > Date.parse((taken.json() as { created: string }).created), true, 'the clock did not move back')
})

t.test('list, delete, and 404 for a snapshot that does not exist', async t => {
  const emu = await startHttps({ clock: 'manual' })
  t.teardown(() => emu.close())
  t.same((await send(emu, 'GET', '/_emulator/snapshots')).json(), { snapshots: [] })
  await send(emu, 'POST', '/_emulator/snapshots', { body: { name: 'b' } })
  await send(emu, 'POST', '/_emulator/snapshots', { body: { name: 'a' } })
  await advance(emu, 1000)
  await send(emu, 'POST', '/_emulator/snapshots', { body: { name: 'a' } })
  const listed = (await send(emu, 'GET', '/_emulator/snapshots')).json() as { snapshots: Array<{ name: string, created: string }> }
  t.same(listed.snapshots.map(s => s.name), ['a', 'b'], 'one of each name, in order')
  t.equal(listed.snapshots[0]?.created, new Date(emu.clock.now()).toISOString(), 'a name taken again replaces the snapshot')
  t.equal((await send(emu, 'DELETE', '/_emulator/snapshots/a')).status, 204)
  t.equal((await send(emu, 'DELETE', '/_emulator/snapshots/a')).status, 404)
  const missing = await send(emu, 'POST', '/_emulator/snapshots/a/restore')
  t.equal(missing.status, 404)
  t.equal((missing.json() as { error: { type: string } }).error.type, 'NotFound')
})

t.test('bad input to the snapshot routes is a 400 naming the field; they are control routes', async t => {
  const emu = await startHttps({ clock: 'manual' })
  t.teardown(() => emu.close())
  for (const [body, field] of [[{}, 'name'], [{ name: '' }, 'name'], [{ name: '../etc' }, 'name'], [{ name: 'x'.repeat(129) }, 'name'], [{ name: 'a', extra: 1 }, 'extra']] as const) {
    const res = await send(emu, 'POST', '/_emulator/snapshots', { body })
    t.equal(res.status, 400, `${JSON.stringify(body)} -> 400`)
    t.equal((res.json() as { error: { details: Array<{ field: string }> } }).error.details[0]?.field, field)
  }
  for (const [method, url] of [['POST', '/_emulator/snapshots/..%2Fetc/restore'], ['DELETE', '/_emulator/snapshots/a.b']] as const) {
    const res = await send(emu, method, url)
    t.equal(res.status, 400, `${method} ${url} -> 400`)
    t.equal((res.json() as { error: { details: Array<{ field: string }> } }).error.details[0]?.field, 'name')
  }
  t.equal((await send(emu, 'POST', '/_emulator/snapshots', { body: { name: 'x' }, headers: { origin: 'https://evil.example' } })).status, 403, 'another origin is refused')
  t.equal((await send(emu, 'GET', '/_emulator/snapshots', { headers: { 'sec-fetch-site': 'cross-site' } })).status, 403)
})

t.test('snapshots are kept with the data file, for the owner alone, and outlive a restart', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-snapshots-'))
  const data = path.join(dir, 'kraken.json')
  const first = await startHttps({ data, inMemory: false, clock: 'manual' })
  await send(first, 'POST', '/_emulator/snapshots', { body: { name: 'kept' } })
  const file = path.join(`${data}.snapshots`, 'kept.json')
  t.equal((await stat(file)).mode & 0o777, 0o600, 'the file is the owner\'s alone')
  const cookie = await loginHttps(first)
  await send(first, 'POST', '/apis/v2/inputs', { cookie, body: NEW_INPUT })
  await first.close()

  const second = await startHttps({ data, inMemory: false, clock: 'manual' })
  t.teardown(() => second.close())
  t.match((await send(second, 'GET', '/_emulator/snapshots')).json(), { snapshots: [{ name: 'kept' }] })
  t.equal((await send(second, 'POST', '/_emulator/snapshots/kept/restore')).status, 200)
  const inputs = (await send(second, 'GET', '/apis/v2/inputs', { cookie: await loginHttps(second) })).json() as { input_list: Array<{ name: string }> }
  t.notOk(inputs.input_list.some(i => i.name === NEW_INPUT.name), 'restored from the file')
})
