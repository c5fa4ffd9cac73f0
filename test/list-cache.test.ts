import t from 'tap'
import { makeApp, login, call } from './helpers/app.ts'

// Lists are served from a cache of their JSON (src/kernel/crud-routes.ts): these prove a cached
// list never outlives the state it shows.
t.test('a cached list follows every change of the store and of live stream state', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  let cookie = await login(app)
  const list = async (url = '/apis/v2/streams') => (await call(app, cookie, 'GET', url)).json() as { stream_list: Array<Record<string, unknown>> }

  const before = await list()
  t.same((await list()), before, 'the same list twice')
  const stream = before.stream_list.find(s => s.mode === 'iorouter' && s.status === 'stopped')!
  t.ok(stream, 'a stopped bypass stream in the default fixture')

  const started = await call(app, cookie, 'PUT', `/apis/v2/streams/stream-${String(stream.uuid)}/start`)
  t.equal(started.statusCode, 200)
  t.equal((await list()).stream_list.find(s => s.uuid === stream.uuid)?.status, 'running', 'a start shows in the list')
  await call(app, cookie, 'PUT', `/apis/v2/streams/stream-${String(stream.uuid)}/stop`)
  t.equal((await list()).stream_list.find(s => s.uuid === stream.uuid)?.status, 'stopped', 'a stop shows in the list')

  const renamed = await call(app, cookie, 'PUT', `/apis/v2/streams/stream-${String(stream.uuid)}`, { name: 'Renamed for the cache test' })
  t.equal(renamed.statusCode, 200)
  t.equal((await list()).stream_list.find(s => s.uuid === stream.uuid)?.name, 'Renamed for the cache test', 'a PUT shows in the list')

  const full = (await list('/apis/v2/streams?full=true')).stream_list.find(s => s.uuid === stream.uuid)!
  t.equal(full.name, 'Renamed for the cache test', 'the full list is cached apart and fresh too')
  t.ok('description' in full, 'the full list has every field')
  t.notOk('description' in (await list()).stream_list[0]!, 'the minimal list still has only the summary fields')

  t.equal((await call(app, cookie, 'DELETE', `/apis/v2/streams/stream-${String(stream.uuid)}`)).statusCode, 204)
  t.notOk((await list()).stream_list.some(s => s.uuid === stream.uuid), 'a delete shows in the list')

  await app.kraken.reset()
  cookie = await login(app) // a reset ends every session
  t.same(await list(), before, 'after a reset the list is the fixture\'s again')
})

t.test('nested lists are cached per parent', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  // Relays of a source that a running stream uses cannot change: start from a stopped device.
  app.kraken.runtime.stopAll()
  const sources = ((await call(app, cookie, 'GET', '/apis/v2/metadata')).json() as { metadata_list: Array<{ uuid: string }> }).metadata_list
  t.ok(sources.length >= 2)
  const relaysOf = async (uuid: string) => ((await call(app, cookie, 'GET', `/apis/v2/metadata/metadata-${uuid}/relays`)).json() as { relay_list: unknown[] }).relay_list.length
  const counts = await Promise.all(sources.map(s => relaysOf(s.uuid)))
  const target = sources.find(s => s.uuid !== undefined)!
  const made = await call(app, cookie, 'POST', `/apis/v2/metadata/metadata-${target.uuid}/relays`, { address: '10.20.0.99', port: 6969 })
  t.equal(made.statusCode, 201, made.body)
  const after = await Promise.all(sources.map(s => relaysOf(s.uuid)))
  t.same(after, counts.map((n, i) => sources[i]!.uuid === target.uuid ? n + 1 : n), 'only the parent that gained a relay lists one more')
})
