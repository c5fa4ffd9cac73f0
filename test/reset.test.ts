// Reset restores the fixture exactly, also while other requests write (issue 3, acceptance 6).
import path from 'node:path'
import t from 'tap'
import { buildApp, type KrakenApp } from '../src/app.ts'
import type { Db, Item } from '../src/kernel/store.ts'
import { resources } from '../src/resources/index.ts'
import { makeApp, login, call } from './helpers/app.ts'
import { samples } from './helpers/samples.ts'
import { tempDir } from './helpers/cli.ts'

/** The store with password hashes masked: their salts differ from one app to another. */
function comparable (db: Db): Db {
  const copy = structuredClone(db)
  for (const account of copy.collections.accounts ?? []) {
    if (typeof account.password_hash === 'string') account.password_hash = account.password_hash.startsWith('scrypt$') ? 'scrypt$<masked>' : account.password_hash
  }
  return copy
}

/** Everything a client can read, collection by collection (full items). */
async function everything (app: KrakenApp): Promise<Record<string, unknown>> {
  const cookie = await login(app)
  const out: Record<string, unknown> = {}
  for (const r of resources.filter(x => x.parent === undefined)) {
    out[r.plural] = (await call(app, cookie, 'GET', `/apis/v2/${r.plural}?full=true`)).json()
  }
  await call(app, cookie, 'GET', '/apis/v2/logout')
  return out
}

/** Every kind of write on the current state: creates, updates and deletes of each resource. */
function writes (app: KrakenApp, cookie: string, n: number): Array<Promise<number>> {
  const out: Array<Promise<number>> = []
  const send = (method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => call(app, cookie, method, url, body).then(res => res.statusCode)
  for (const r of resources.filter(x => x.parent === undefined)) {
    const sample = samples[r.collection]
    if (sample === undefined) throw new Error(`no sample for ${r.collection}`)
    if (sample.standalone === true) out.push(Promise.resolve(sample.create(n, () => Promise.reject(new Error('standalone')))).then(body => send('POST', `/apis/v2/${r.plural}`, body)))
    const existing = app.kraken.store.list(r.collection)
    const victim = existing[n % Math.max(existing.length, 1)]
    if (victim === undefined) continue
    const id = String(victim[r.idField])
    if (r.plural !== 'accounts') out.push(send('PUT', `/apis/v2/${r.plural}/${id}`, pickWritable(r.collection, victim, n)))
    if (n % 3 === 0 && r.plural !== 'accounts') out.push(send('DELETE', `/apis/v2/${r.plural}/${id}`))
  }
  return out
}

/** A change that is valid for an existing item: its sample's change with a unique suffix. */
function pickWritable (collection: string, _item: Item, n: number): Item {
  return samples[collection]!.change(1000 + n)
}

t.test('reset restores the fixture exactly while other requests write', async t => {
  const fresh = await makeApp()
  const expected = comparable(fresh.kraken.store.snapshot())
  const expectedReads = await everything(fresh)
  await fresh.close()

  for (let round = 0; round < 3; round++) {
    const app = await makeApp()
    const cookie = await login(app)
    const statuses: Array<Promise<number>> = []
    let answered = 0
    const track = (batch: Array<Promise<number>>) => statuses.push(...batch.map(p => p.then(status => { answered++; return status })))
    for (let n = 0; n < 12; n++) track(writes(app, cookie, round * 100 + n))
    // The reset goes out once a third of the first burst has been answered: some writes have
    // landed, others are still being read, validated or hashed.
    const firstBurst = statuses.length
    while (answered < firstBurst / 3) await new Promise(resolve => setImmediate(resolve))
    const reset = app.inject({ method: 'POST', url: '/_emulator/reset' })
    for (let n = 12; n < 24; n++) track(writes(app, cookie, round * 100 + n))
    const results = await Promise.all(statuses)
    t.equal((await reset).statusCode, 200, `round ${round}: the reset answered 200`)
    t.ok(results.filter(s => s === 201).length >= 3, `round ${round}: creates landed before the reset (${results.join(' ')})`)
    t.ok(results.some(s => s === 401), `round ${round}: writes in flight during the reset were refused`)
    t.ok(results.every(s => s < 500), `round ${round}: no write failed with a 5xx`)
    t.same(comparable(app.kraken.store.snapshot()), expected, `round ${round}: the store is the fixture again`)
    t.same(await everything(app), expectedReads, `round ${round}: every GET answers as on a fresh device`)
    t.equal((await call(app, cookie, 'GET', '/apis/v2/session')).statusCode, 401, `round ${round}: the sessions ended`)
    await app.close()
  }
})

t.test('reset ends every session, clears lockouts, and needs no session or body', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  const bare = await app.inject({ method: 'POST', url: '/_emulator/reset' })
  t.equal(bare.statusCode, 200)
  t.same(bare.json(), { fixture: 'default' })
  t.equal((await call(app, cookie, 'GET', '/apis/v2/session')).statusCode, 401)
  t.equal((await call(app, undefined, 'POST', '/_emulator/reset', {})).statusCode, 200, 'an empty JSON body works too')
})

t.test('reset can switch fixtures by name, then restores the active one', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const emptyApp = await makeApp({ fixture: 'empty' })
  const empty = comparable(emptyApp.kraken.store.snapshot())
  await emptyApp.close()

  const res = await call(app, undefined, 'POST', '/_emulator/reset', { fixture: 'empty' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { fixture: 'empty' })
  t.same(comparable(app.kraken.store.snapshot()), empty, 'the empty fixture')
  const cookie = await login(app)
  t.equal((await call(app, cookie, 'POST', '/apis/v2/transcoders', samples.transcoders!.create(1, () => Promise.reject(new Error('x'))))).statusCode, 201)
  t.same((await call(app, undefined, 'POST', '/_emulator/reset')).json(), { fixture: 'empty' }, 'a bare reset restores the active fixture')
  t.same(comparable(app.kraken.store.snapshot()), empty)
})

t.test('a reset to an unknown fixture is a 400 naming it, and changes nothing', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  const before = app.kraken.store.snapshot()
  for (const fixture of ['nope', '../fixtures/default', '/etc/passwd', 'default.json', '']) {
    const res = await call(app, undefined, 'POST', '/_emulator/reset', { fixture })
    t.equal(res.statusCode, 400, `fixture ${JSON.stringify(fixture)}`)
    t.match(res.json(), { error: { type: 'Validation', details: [{ field: 'fixture' }] } })
  }
  t.match((await call(app, undefined, 'POST', '/_emulator/reset', { fixture: 'nope' })).json(), { error: { message: /nope.*not found.*default/ } }, 'it lists the known fixtures')
  t.same(app.kraken.store.snapshot(), before, 'the state is untouched')
  t.equal((await call(app, cookie, 'GET', '/apis/v2/session')).statusCode, 200, 'and so are the sessions')
})

t.test('a reset is durable: a restart on the data file reads the fixture', async t => {
  const dir = await tempDir(t)
  const data = path.join(dir, 'kraken.json')
  const config = { data, logLevel: 'silent' as const, transitionMs: 0 }
  const app = await buildApp(config)
  const cookie = await login(app)
  for (let n = 0; n < 5; n++) {
    t.equal((await call(app, cookie, 'POST', '/apis/v2/transcoders', samples.transcoders!.create(n, () => Promise.reject(new Error('x'))))).statusCode, 201)
  }
  const expected = comparable((await makeApp().then(async fresh => { const s = fresh.kraken.store.snapshot(); await fresh.close(); return s })))
  await app.kraken.reset()
  await app.close()
  const again = await buildApp(config)
  t.teardown(() => again.close())
  t.same(comparable(again.kraken.store.snapshot()), expected)
})
