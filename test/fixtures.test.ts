import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import type { KrakenApp } from '../src/app.ts'
import { checkDb } from '../src/check-db.ts'
import { resolveConfig } from '../src/config.ts'
import { dbFromFixture, fixtureNames, loadFixture, type Fixture } from '../src/fixtures.ts'
import { PARENT_KEY, itemUrl, type Resource } from '../src/kernel/define-resource.ts'
import { Registry } from '../src/kernel/registry.ts'
import type { Item } from '../src/kernel/store.ts'
import { resources } from '../src/resources/index.ts'
import { CURRENT_FORMAT } from '../src/migrations/index.ts'
import { Seeder } from '../src/seed.ts'
import { call, envelopeOf } from './helpers/app.ts'
import { API, mediaApp, type MediaApp } from './helpers/media.ts'

// Every fixture is valid seed data: it matches the schemas, and every one of its objects is one
// the API itself would create, rules included (replayed through POST on a bare device).

const registry = new Registry(resources)
/** Accounts are seeded by src/seed.ts (password hashes), not created through the media API. */
const replayed = resources.filter(r => r.plural !== 'accounts')

/** Resources ordered so that parents and referenced resources come first. */
function dependencyOrder (): Resource[] {
  const done: Resource[] = []
  const visit = (r: Resource): void => {
    if (done.includes(r)) return
    if (r.parent !== undefined) visit(r.parent)
    for (const plural of Object.values(r.spec.references ?? {})) visit(registry.top(plural)!)
    done.push(r)
  }
  replayed.forEach(visit)
  return done
}

/** Creates every media object of `fixture` through the API, on a device with only its system settings and accounts. */
async function replay (m: MediaApp, fixture: Fixture): Promise<string[]> {
  const problems: string[] = []
  const s = m.app.kraken.store
  const bare = s.snapshot()
  await s.replace({ ...bare, collections: { accounts: bare.collections.accounts ?? [] }, singletons: structuredClone(fixture.singletons) })
  const ids = new Map<string, string>()
  const mapped = (v: unknown): unknown => typeof v === 'string' ? (ids.get(v) ?? v) : Array.isArray(v) ? v.map(mapped) : v
  for (const r of dependencyOrder()) {
    for (const [index, item] of (fixture.collections[r.collection] ?? []).entries()) {
      const where = `${r.collection}[${index}] '${String(item.name ?? item[r.idField])}'`
      const expected: Item = { ...item }
      for (const field of Object.keys(r.spec.references ?? {})) expected[field] = mapped(item[field])
      const { [r.idField]: oldId, [PARENT_KEY]: parent, ...body } = expected
      const base = r.parent === undefined ? `${API}/${r.plural}` : `${API}/${r.parent.plural}/${r.parent.singular}-${String(mapped(parent))}/${r.plural}`
      const res = await call(m.app, m.cookie, 'POST', base, body)
      if (res.statusCode !== 201) {
        problems.push(`${where}: ${res.statusCode} ${envelopeOf(res).message}`)
        continue
      }
      const newId = String((res.json() as Item)[r.idField])
      ids.set(String(oldId), newId)
      const stored = s.get(r.collection, newId)
      const want: Item = { ...expected, [r.idField]: newId, ...(parent === undefined ? {} : { [PARENT_KEY]: mapped(parent) }) }
      // A recording output's url is derived from its own uuid (<archive location path>/<uuid>).
      if (typeof want.url === 'string') want.url = want.url.replace(String(oldId), newId)
      if (!isDeepStrictEqual(stored, want)) {
        const fields = Object.keys({ ...stored, ...want }).filter(k => !isDeepStrictEqual(stored?.[k], want[k]))
        problems.push(`${where}: the API stores other values for ${fields.map(f => `${f} (${JSON.stringify(stored?.[f])}, fixture ${JSON.stringify(want[f])})`).join(', ')}`)
      }
    }
  }
  return problems
}

for (const name of fixtureNames()) {
  t.test(`fixture ${name}`, async t => {
    const fixture = loadFixture(name)
    // Shipped seed data is kept in the current format (a migration brings the fixtures along), so
    // a user who copies one starts from what this release writes.
    t.equal(fixture.format, CURRENT_FORMAT, 'declares the current data format')
    const db = await new Seeder(resolveConfig({})).db(name)
    t.doesNotThrow(() => checkDb(db, registry), 'matches the schemas')
    for (const r of replayed) {
      for (const item of db.collections[r.collection] ?? []) {
        const missing = Object.keys(r.schemas.Item.properties).filter(k => !(k in item))
        t.same(missing, [], `${r.collection} '${String(item.name ?? item.uuid)}' has every key`)
      }
    }
    const m = await mediaApp(name)
    t.teardown(() => m.app.close())
    t.same(await replay(m, fixture), [], 'every object is one the API creates, rules included')
  })
}

t.test('the replay catches a fixture that breaks a rule the schema cannot see', async t => {
  const fixture = structuredClone(loadFixture('default'))
  const streams = fixture.collections.streams!
  const rtmp = fixture.collections.inputs!.find(i => i.protocol === 'rtmp')!
  const transcoding = streams.find(s => s.mode === 'transcoder')!
  transcoding.input = rtmp.uuid // RTMP forces iorouter
  const db = await new Seeder(resolveConfig({})).db('default')
  t.doesNotThrow(() => checkDb(dbFromFixture(fixture, db.collections.accounts!), registry), 'the schemas accept it')
  const m = await mediaApp('empty')
  t.teardown(() => m.app.close())
  const problems = await replay(m, fixture)
  t.equal(problems.length, 1, problems.join('\n'))
  t.match(problems[0], new RegExp(`streams\\[\\d\\] '${transcoding.name as string}': 400 mode must be iorouter`))
})

t.test('the default fixture is the tactical kit of kraken-api.md section 9', async t => {
  const { collections: c } = loadFixture('default')
  const streams = c.streams ?? []
  t.equal(streams.length, 5, 'five streams')
  t.same([...new Set(streams.map(s => s.mode))].sort(), ['iorouter', 'passthru', 'transcoder'], 'all three modes')
  t.equal(streams.filter(s => s.auto_start === true).length, 2, 'two auto-start streams')
  t.same([...new Set((c.inputs ?? []).map(i => i.protocol))].sort(), ['rtmp', 'rtsp', 'ts_srt', 'ts_udp'], 'inputs of TS/UDP, SRT, RTSP, RTMP')
  t.ok((c.inputs ?? []).some(i => i.protocol === 'ts_srt' && i.srt_mode === 'listener'), 'an SRT listener')
  const transcoders = (c.transcoders ?? []).length
  t.ok(transcoders >= 2 && transcoders <= 3, 'two or three transcoder profiles')
  t.same((c.metadata ?? []).map(md => md.data_format).sort(), ['cot', 'klv'], 'KLV and CoT metadata')
  t.equal((c['metadata.relays'] ?? []).length, 1, 'one CoT relay')
  const nics = (c.inputs ?? []).concat(c.outputs ?? []).map(i => i.network_interface).filter(n => n !== null && n !== 'auto')
  t.ok(nics.length > 0 && nics.every(n => ['eth0', 'eth1', 'eth2'].includes(String(n))), 'NIC names of the kit')
})

t.test('GET-edit-PUT round trip of every default item changes nothing', async t => {
  const m = await mediaApp('default')
  t.teardown(() => m.app.close())
  const app: KrakenApp = m.app
  for (const r of replayed) {
    for (const stored of app.kraken.store.list(r.collection)) {
      const id = String(stored[r.idField])
      const url = itemUrl(r, r.parent === undefined ? [id] : [String(stored[PARENT_KEY]), id])
      const got = await call(app, m.cookie, 'GET', url)
      t.equal(got.statusCode, 200, `GET ${url}`)
      const put = await call(app, m.cookie, 'PUT', url, got.json())
      t.equal(put.statusCode, 200, `PUT ${r.singular} '${String(stored.name ?? id)}' back: ${put.body.slice(0, 200)}`)
      t.same(put.json(), got.json(), 'the response is the item unchanged')
      t.ok(isDeepStrictEqual(app.kraken.store.get(r.collection, id), stored), 'the stored item is unchanged (write-only fields kept)')
    }
  }
})
