// Presets (issue 21, kraken-api.md section 10) over a real HTTPS port: save, list, load, rename,
// duplicate, delete, start-up, export and import; each role; bad input answered in the envelope
// with nothing changed.
import t, { type Test } from 'tap'
import { loginHttps, send, startHttps } from './helpers/https.ts'
import { PRESETS } from '../src/admin/preset-state.ts'
import { CURRENT_FORMAT } from '../src/migrations/index.ts'

type Emulator = Awaited<ReturnType<typeof startHttps>>
const API = '/apis/v2'
const CONFIG = ['inputs', 'archive_locations', 'outputs', 'transcoders', 'metadata', 'metadata.relays', 'streams']

/** The configuration as the store holds it, each collection sorted by id. */
function configuration (emulator: Emulator): Record<string, unknown[]> {
  const { store, registry } = emulator.app.kraken
  return Object.fromEntries(CONFIG.map(c => [c, [...store.list(c)].sort((a, b) =>
    String(a[registry.idField(c)]).localeCompare(String(b[registry.idField(c)])))]))
}

function running (emulator: Emulator): string[] {
  const { store, runtime } = emulator.app.kraken
  return store.list('streams').map(s => String(s.uuid)).filter(uuid => runtime.state(uuid).status === 'running').sort()
}

function autoStartStreams (emulator: Emulator): string[] {
  return emulator.app.kraken.store.list('streams').filter(s => s.auto_start === true).map(s => String(s.uuid)).sort()
}

async function stopAll (emulator: Emulator, cookie: string): Promise<void> {
  for (const stream of emulator.app.kraken.store.list('streams')) {
    const res = await send(emulator, 'PUT', `${API}/streams/stream-${String(stream.uuid)}/stop`, { cookie })
    if (res.status !== 200) throw new Error(`stop: ${res.status} ${res.text}`)
  }
}

/** Changes every configuration collection through the API. */
async function changeEverything (emulator: Emulator, cookie: string): Promise<void> {
  await stopAll(emulator, cookie)
  const { store } = emulator.app.kraken
  for (const c of ['inputs', 'outputs', 'transcoders', 'metadata', 'streams']) {
    const item = store.list(c)[0]!
    const res = await send(emulator, 'PUT', `${API}/${c}/${c === 'metadata' ? 'metadata' : c.slice(0, -1)}-${String(item.uuid)}`, { cookie, body: { name: `changed ${c}` } })
    if (res.status !== 200) throw new Error(`change ${c}: ${res.status} ${res.text}`)
  }
  const relay = store.list('metadata.relays')[0]!
  const del = await send(emulator, 'DELETE', `${API}/metadata/metadata-${String(relay._parent)}/relays/relay-${String(relay.uuid)}`, { cookie })
  if (del.status !== 204) throw new Error(`delete relay: ${del.status} ${del.text}`)
  const created = await send(emulator, 'POST', `${API}/transcoders`, { cookie, body: { name: 'added after the save' } })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
  const stream = store.list('streams').find(s => s.auto_start === true)!
  const flip = await send(emulator, 'PUT', `${API}/streams/stream-${String(stream.uuid)}`, { cookie, body: { auto_start: false } })
  if (flip.status !== 200) throw new Error(`flip: ${flip.status} ${flip.text}`)
}

function assertEnvelope (t: Test, res: { status: number, json: () => unknown }, status: number, type: string, label: string): void {
  t.equal(res.status, status, `${label}: ${status}`)
  t.match(res.json(), { error: { type, message: String, details: Array } }, `${label}: the envelope`)
}

t.test('round trip: save, change everything, load, and the configuration equals the saved one; auto_start streams run', async t => {
  const emulator = await startHttps({ fixture: 'default' })
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  t.ok(running(emulator).length > 0, 'the device came up with running streams')

  const saved = await send(emulator, 'POST', `${API}/presets`, { cookie: admin, body: { name: 'class-1.cfg' } })
  t.equal(saved.status, 201, saved.text)
  t.equal(saved.headers.location, `${API}/presets/preset-class-1.cfg`)
  t.match(saved.json(), { name: 'class-1.cfg', active: true, startup: false, saved: Number })
  const before = configuration(emulator)
  const autoStart = autoStartStreams(emulator)

  let list = (await send(emulator, 'GET', `${API}/presets`, { cookie: admin })).json()
  t.same(list, { preset_list: [{ name: 'class-1.cfg', saved: Number((saved.json() as { saved: number }).saved), active: true, startup: false }], active: 'class-1.cfg', active_was_modified: false, autosave: true, startup: null })

  await changeEverything(emulator, admin)
  t.notSame(configuration(emulator), before, 'the configuration changed')
  t.same(running(emulator), [], 'every stream stopped')
  list = (await send(emulator, 'GET', `${API}/presets`, { cookie: admin })).json()
  t.match(list, { active: 'class-1.cfg', active_was_modified: true }, 'the active preset is marked modified')

  const operator = await loginHttps(emulator, 'operator')
  const loaded = await send(emulator, 'PUT', `${API}/presets/preset-class-1.cfg/load`, { cookie: operator })
  t.equal(loaded.status, 200, loaded.text)
  t.same(configuration(emulator), before, 'the configuration equals the saved one')
  t.same(running(emulator), autoStart, 'exactly the auto_start streams run after the load')
  list = (await send(emulator, 'GET', `${API}/presets`, { cookie: operator })).json()
  t.match(list, { active: 'class-1.cfg', active_was_modified: false })
  t.equal((await send(emulator, 'GET', `${API}/session`, { cookie: admin })).status, 200, 'sessions survive a load')
})

t.test('a preset that no longer passes today\'s rules changes nothing and says why', async t => {
  const emulator = await startHttps({ fixture: 'default' })
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  t.equal((await send(emulator, 'POST', `${API}/presets`, { cookie: admin, body: { name: 'old.cfg' } })).status, 201)
  // A preset saved under older, laxer rules: one of its streams names an input that no longer exists.
  const { store } = emulator.app.kraken
  const state = structuredClone(store.singleton(PRESETS)) as { presets: Array<{ configuration: Record<string, Array<Record<string, unknown>>> }> }
  state.presets[0]!.configuration.streams![0]!.input = '00000000-0000-4000-8000-00000000dead'
  await store.commit([{ op: 'set', singleton: PRESETS, value: state }])
  await changeEverything(emulator, admin)
  const start = await send(emulator, 'PUT', `${API}/streams/stream-${String(store.list('streams')[1]!.uuid)}/start`, { cookie: admin })
  t.equal(start.status, 200)
  const before = configuration(emulator)
  const runningBefore = running(emulator)

  const res = await send(emulator, 'PUT', `${API}/presets/preset-old.cfg/load`, { cookie: admin })
  assertEnvelope(t, res, 400, 'Validation', 'load')
  t.match((res.json() as { error: { message: string } }).error.message, /old\.cfg.*today's rules.*00000000-0000-4000-8000-00000000dead/)
  t.same(configuration(emulator), before, 'the configuration is unchanged')
  t.same(running(emulator), runningBefore, 'the running streams still run')
})

t.test('roles: Viewers list, Operators list and load, Administrators manage; no session is 401', async t => {
  const emulator = await startHttps({ fixture: 'default' })
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const operator = await loginHttps(emulator, 'operator')
  const viewer = await loginHttps(emulator, 'user')
  t.equal((await send(emulator, 'POST', `${API}/presets`, { cookie: admin, body: { name: 'a.cfg' } })).status, 201)
  const P = `${API}/presets/preset-a.cfg`
  const writes: Array<[string, string, unknown?]> = [
    ['POST', `${API}/presets`, { name: 'b.cfg' }], ['PUT', P], ['DELETE', P], ['PUT', `${P}/rename`, { name: 'c.cfg' }],
    ['PUT', `${P}/duplicate`, { name: 'd.cfg' }], ['PUT', `${P}/startup`], ['DELETE', `${P}/startup`], ['GET', `${P}/file`],
    ['POST', `${API}/presets/import`, { format: 'kraken-emulator-preset/1', name: 'e.cfg', saved: 0, configuration: {} }]
  ]
  for (const [method, path, body] of writes) {
    for (const [role, cookie] of [['Operator', operator], ['Viewer', viewer]] as const) {
      assertEnvelope(t, await send(emulator, method as 'GET', path, { cookie, body }), 403, 'SessionAuthorization', `${role} ${method} ${path}`)
    }
    assertEnvelope(t, await send(emulator, method as 'GET', path, { body }), 401, 'SessionAuthentication', `no session ${method} ${path}`)
  }
  assertEnvelope(t, await send(emulator, 'PUT', `${P}/load`, { cookie: viewer }), 403, 'SessionAuthorization', 'Viewer load')
  assertEnvelope(t, await send(emulator, 'PUT', `${P}/load`), 401, 'SessionAuthentication', 'no session load')
  for (const [role, cookie] of [['Operator', operator], ['Viewer', viewer]] as const) {
    t.equal((await send(emulator, 'GET', `${API}/presets`, { cookie })).status, 200, `${role} lists`)
    t.equal((await send(emulator, 'GET', P, { cookie })).status, 200, `${role} reads one`)
  }
  t.equal((await send(emulator, 'PUT', `${P}/load`, { cookie: operator })).status, 200, 'Operator loads')
  const list = (await send(emulator, 'GET', `${API}/presets`, { cookie: admin })).json() as { preset_list: unknown[] }
  t.equal(list.preset_list.length, 1, 'nothing refused added a preset')
  t.match(list, { preset_list: [{ name: 'a.cfg', saved: Number, active: true, startup: false }], active: 'a.cfg', active_was_modified: false, autosave: true, startup: null }, 'nothing refused changed anything')
})

t.test('rename, duplicate, save over, delete, start-up (applied after a reboot)', async t => {
  const emulator = await startHttps({ fixture: 'default' })
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  t.equal((await send(emulator, 'PUT', `${API}/presets/preset-a.cfg`, { cookie: admin })).status, 201, 'PUT creates')
  t.equal((await send(emulator, 'PUT', `${API}/presets/preset-a.cfg`, { cookie: admin })).status, 200, 'PUT saves over')
  const renamed = await send(emulator, 'PUT', `${API}/presets/preset-a.cfg/rename`, { cookie: admin, body: { name: 'b.cfg' } })
  t.equal(renamed.status, 200, renamed.text)
  t.match(renamed.json(), { name: 'b.cfg', active: true })
  t.equal((await send(emulator, 'GET', `${API}/presets/preset-a.cfg`, { cookie: admin })).status, 404, 'the old name is gone')
  const dup = await send(emulator, 'PUT', `${API}/presets/preset-b.cfg/duplicate`, { cookie: admin, body: { name: 'c.cfg' } })
  t.equal(dup.status, 201, dup.text)
  t.match(dup.json(), { name: 'c.cfg', active: false })
  assertEnvelope(t, await send(emulator, 'PUT', `${API}/presets/preset-b.cfg/duplicate`, { cookie: admin, body: { name: 'c.cfg' } }), 409, 'Conflict', 'duplicate onto a taken name')
  assertEnvelope(t, await send(emulator, 'PUT', `${API}/presets/preset-b.cfg/rename`, { cookie: admin, body: { name: 'c.cfg' } }), 409, 'Conflict', 'rename onto a taken name')
  assertEnvelope(t, await send(emulator, 'POST', `${API}/presets`, { cookie: admin, body: { name: 'c.cfg' } }), 409, 'Conflict', 'POST a taken name')

  t.equal((await send(emulator, 'PUT', `${API}/presets/preset-c.cfg/startup`, { cookie: admin })).status, 200)
  const saved = configuration(emulator)
  await changeEverything(emulator, admin)
  t.match((await send(emulator, 'GET', `${API}/presets`, { cookie: admin })).json(), { startup: 'c.cfg', active: 'b.cfg', active_was_modified: true })
  t.equal((await send(emulator, 'POST', `${API}/system/reboot`, { cookie: admin })).status, 204)
  const again = await loginHttps(emulator)
  t.same(configuration(emulator), saved, 'the start-up preset was applied by the reboot')
  t.same(running(emulator), autoStartStreams(emulator), 'and its auto_start streams run')
  t.match((await send(emulator, 'GET', `${API}/presets`, { cookie: again })).json(), { startup: 'c.cfg', active: 'c.cfg', active_was_modified: false })

  t.equal((await send(emulator, 'DELETE', `${API}/presets/preset-c.cfg/startup`, { cookie: again })).status, 200)
  t.equal((await send(emulator, 'DELETE', `${API}/presets/preset-c.cfg`, { cookie: again })).status, 204)
  const list = (await send(emulator, 'GET', `${API}/presets`, { cookie: again })).json() as { preset_list: unknown[] }
  t.equal(list.preset_list.length, 1)
  t.match(list, { preset_list: [{ name: 'b.cfg', saved: Number, active: false, startup: false }], active: null, active_was_modified: false, autosave: true, startup: null })
})

t.test('export and import a preset file; future formats, corrupt files and wrong types are refused with nothing changed', async t => {
  const emulator = await startHttps({ fixture: 'default' })
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  t.equal((await send(emulator, 'POST', `${API}/presets`, { cookie: admin, body: { name: 'kit.cfg' } })).status, 201)
  const exported = await send(emulator, 'GET', `${API}/presets/preset-kit.cfg/file`, { cookie: admin })
  t.equal(exported.status, 200)
  const file = exported.json() as { format: string, data_format: string, name: string, configuration: Record<string, unknown[]> }
  t.equal(file.format, 'kraken-emulator-preset/1')
  t.equal(file.data_format, CURRENT_FORMAT, 'its items are in the data file\'s current format')
  t.same(Object.keys(file.configuration).sort(), [...CONFIG].sort(), 'the whole configuration, no accounts')

  // A second device: the trainer hands the file to a class.
  const other = await startHttps({ fixture: 'empty' })
  t.teardown(() => other.close())
  const otherAdmin = await loginHttps(other)
  const listBefore = (await send(other, 'GET', `${API}/presets`, { cookie: otherAdmin })).text
  const bad: Array<[string, unknown, number, string]> = [
    ['a future format', { ...file, format: 'kraken-emulator-preset/2' }, 400, 'newer emulator'],
    ['a future format shaped differently', { format: 'kraken-emulator-preset/3', presets: [{ streams: 'elsewhere' }] }, 400, 'newer emulator'],
    ['no format', { name: 'kit.cfg', configuration: {} }, 400, 'format'],
    ['items of a newer data format', { ...file, data_format: 'kraken-emulator/99' }, 400, 'newer'],
    ['a data format of the wrong type', { ...file, data_format: 1 }, 400, 'data_format'],
    ['an unknown format', { ...file, format: 'something/1' }, 400, 'format'],
    ['a name of the wrong type', { ...file, name: 5 }, 400, 'name'],
    ['a name without .cfg', { ...file, name: 'kit' }, 400, 'name'],
    ['a collection that is not configuration', { ...file, configuration: { accounts: [] } }, 400, 'accounts'],
    ['an item without its id', { ...file, configuration: { streams: [{ name: 'x' }] } }, 400, 'streams'],
    ['a stream naming a missing input', { ...file, configuration: { ...file.configuration, inputs: [] } }, 400, "today's rules"],
    ['corrupt JSON', '{"format": "kraken-emulator-preset/1", "name": ', 400, 'JSON'],
    ['an array', [file], 400, 'object']
  ]
  for (const [label, body, status, message] of bad) {
    const res = await send(other, 'POST', `${API}/presets/import`, { cookie: otherAdmin, body: typeof body === 'string' ? body : JSON.stringify(body) })
    assertEnvelope(t, res, status, 'Validation', label)
    t.match((res.json() as { error: { message: string } }).error.message, message, `${label}: says why`)
  }
  t.equal((await send(other, 'GET', `${API}/presets`, { cookie: otherAdmin })).text, listBefore, 'nothing was imported')
  assertEnvelope(t, await send(other, 'PUT', `${API}/presets/preset-kit.cfg/load`, { cookie: otherAdmin }), 404, 'NotFound', 'load an unknown preset')
  assertEnvelope(t, await send(other, 'POST', `${API}/presets`, { cookie: otherAdmin, body: { name: 7 } }), 400, 'Validation', 'save with a name of the wrong type')

  const imported = await send(other, 'POST', `${API}/presets/import`, { cookie: otherAdmin, body: file })
  t.equal(imported.status, 201, imported.text)
  assertEnvelope(t, await send(other, 'POST', `${API}/presets/import`, { cookie: otherAdmin, body: file }), 409, 'Conflict', 'import a taken name')
  t.equal((await send(other, 'PUT', `${API}/presets/preset-kit.cfg/load`, { cookie: otherAdmin })).status, 200)
  t.same(configuration(other), configuration(emulator), 'the class device has the trainer\'s configuration')
  t.match((await send(other, 'GET', `${API}/presets`, { cookie: otherAdmin })).json(), { active: 'kit.cfg', active_was_modified: false })
})
