// The engine's contract (kraken-api.md section 3), checked for every resource of the registry and
// every operation, nested ones included, in both id forms (issue 3, acceptance 1).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { resources } from '../src/resources/index.ts'
import { API_BASE, itemUrl, lineage, type Resource } from '../src/kernel/define-resource.ts'
import type { Item } from '../src/kernel/store.ts'
import type { Role } from '../src/kernel/roles.ts'
import { makeApp, login, call, USERS } from './helpers/app.ts'
import { samples } from './helpers/samples.ts'
import { UUID_V4, type TapTest } from './helpers/auth.ts'
import type { KrakenApp } from '../src/app.ts'

const IGNORED = '__read-only: ignored__'
const ALL_OPS = ['list', 'create', 'get', 'update', 'delete'] as const

type Res = Awaited<ReturnType<typeof call>>

/** The ids of a chain of items, top first, in the two URL forms field clients use. */
function urls (r: Resource, ids: readonly string[]) {
  const chain = lineage(r)
  const bare = (n: number) => API_BASE + chain.slice(0, n).map((x, i) => `/${x.plural}/${ids[i]}`).join('')
  const prefixed = (n: number) => n === 0 ? API_BASE : itemUrl(chain[n - 1]!, ids.slice(0, n))
  const depth = chain.length
  return {
    collection: { prefixed: `${prefixed(depth - 1)}/${r.plural}`, bare: `${bare(depth - 1)}/${r.plural}` },
    item: { prefixed: prefixed(depth), bare: bare(depth) }
  }
}

function assertEnvelope (t: TapTest, res: Res, status: number, type: string, what: string): Array<{ field: string, message: string }> {
  t.equal(res.statusCode, status, `${what}: ${status}`)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${what}: JSON`)
  const body = res.json() as { error?: { type: string, message: string, details: Array<{ field: string, message: string }> } }
  t.same(Object.keys(body), ['error'], `${what}: the envelope only`)
  t.equal(body.error?.type, type, `${what}: ${type}`)
  t.type(body.error?.message, 'string')
  return body.error?.details ?? []
}

const keysOf = (o: unknown) => Object.keys(o as object).sort()
const responseKeys = (r: Resource) => Object.keys(r.schemas.Response.properties).sort()
const requiredOf = (r: Resource) => (r.schemas.Create as { required?: string[] }).required ?? []

/** Builds items through the API, prerequisites first, with unique names. */
class Maker {
  n = 0
  constructor (private readonly app: KrakenApp, private readonly cookie: string) {}

  resource (collection: string): Resource {
    const r = resources.find(x => x.collection === collection)
    if (r === undefined) throw new Error(`no resource with collection ${collection}`)
    return r
  }

  async body (r: Resource): Promise<Item> {
    const sample = samples[r.collection]
    if (sample === undefined) throw new Error(`no sample for ${r.collection}`)
    return sample.create(++this.n, c => this.make(c))
  }

  /** The ids of a fresh parent chain for `r` (empty for a top-level resource). */
  async parents (r: Resource): Promise<string[]> {
    const chain = lineage(r).slice(0, -1)
    const ids: string[] = []
    for (const p of chain) ids.push(await this.makeUnder(p, ids))
    return ids
  }

  async make (collection: string): Promise<string> {
    const r = this.resource(collection)
    return this.makeUnder(r, await this.parents(r))
  }

  async makeUnder (r: Resource, parentIds: string[]): Promise<string> {
    const res = await call(this.app, this.cookie, 'POST', urls(r, [...parentIds, '']).collection.prefixed, await this.body(r))
    if (res.statusCode !== 201) throw new Error(`making a ${r.singular} failed: ${res.statusCode} ${res.body}`)
    return String((res.json() as Item)[r.idField])
  }
}

t.test('every registered resource has a sample body', async t => {
  t.ok(resources.length >= 7, 'the registry lists the resources of kraken-api.md')
  for (const r of resources) t.ok(samples[r.collection] !== undefined, `test/helpers/samples.ts has a sample for ${r.collection}`)
  for (const collection of Object.keys(samples)) t.ok(resources.some(r => r.collection === collection), `sample ${collection} names a registered resource`)
})

for (const r of resources) {
  t.test(`${r.collection}: the CRUD contract`, async t => {
    if (samples[r.collection] === undefined) {
      t.fail(`no sample body for ${r.collection}: add one to test/helpers/samples.ts`)
      return
    }
    const app = await makeApp()
    t.teardown(() => app.close())
    const admin = await login(app)
    const maker = new Maker(app, admin)
    const ops = new Set(r.spec.operations ?? ALL_OPS)
    const parentIds = await maker.parents(r)
    const coll = urls(r, [...parentIds, '']).collection
    const hidden = [...r.hidden]

    if (ops.has('list')) {
      for (const url of [coll.prefixed, coll.bare, coll.prefixed + '/']) {
        const res = await call(app, admin, 'GET', url)
        t.equal(res.statusCode, 200, `GET ${url}`)
        t.same(keysOf(res.json()), [`${r.singular}_list`], 'the list wrapper is the only key')
        const list = (res.json() as Record<string, Item[]>)[`${r.singular}_list`]
        t.ok(Array.isArray(list), 'an array')
        for (const item of list ?? []) t.same(keysOf(item), [...r.summary].sort(), 'list items are the minimal representation')
      }
    }

    if (!ops.has('create')) return
    const sample = await maker.body(r)
    const sampleN = maker.n
    const beforeCount = r.parent === undefined ? app.kraken.store.list(r.collection).length : undefined

    // Unknown fields are refused, read-only ones ignored, required ones named.
    const unknown = await call(app, admin, 'POST', coll.prefixed, { ...sample, no_such_field: 1 })
    t.ok(assertEnvelope(t, unknown, 400, 'Validation', 'create with an unknown field').some(d => d.field === 'no_such_field'), 'the 400 names the unknown field')
    if (requiredOf(r).length > 0) {
      const details = assertEnvelope(t, await call(app, admin, 'POST', coll.prefixed, {}), 400, 'Validation', 'create with an empty body')
      t.ok(details.some(d => requiredOf(r).includes(d.field)), `the 400 names a required field (${requiredOf(r).join(', ')})`)
    }
    if (beforeCount !== undefined) t.equal(app.kraken.store.list(r.collection).length, beforeCount, 'refused creates stored nothing')

    const readOnly = [...r.readOnly]
    const bogusId = randomUUID()
    const withReadOnly: Item = { ...sample, ...Object.fromEntries(readOnly.map(f => [f, f === r.idField ? bogusId : IGNORED])) }
    const created = await call(app, admin, 'POST', coll.prefixed, withReadOnly)
    t.equal(created.statusCode, 201, `POST ${coll.prefixed}: 201 (${created.body.slice(0, 300)})`)
    const item = created.json() as Item
    const id = String(item[r.idField])
    if (r.serverAssignsId) {
      t.match(id, UUID_V4, 'the server assigned a UUID v4')
      t.not(id, bogusId, 'the client\'s uuid was ignored')
    } else {
      t.equal(id, String(sample[r.idField]), `the id is the ${r.idField} given`)
    }
    const ids = [...parentIds, id]
    const u = urls(r, ids)
    t.equal(created.headers.location, u.item.prefixed, 'Location is the prefixed item URL')
    t.same(keysOf(item), responseKeys(r), 'the body is the full item: every field, none hidden')
    for (const f of hidden) t.notOk(f in item, `${f} is never returned`)
    for (const f of readOnly) t.not(item[f], IGNORED, `read-only ${f} was ignored`)
    for (const [k, v] of Object.entries(sample)) if (!r.hidden.has(k)) t.same(item[k], v, `${k} is as sent`)

    if (ops.has('get')) {
      for (const url of [u.item.prefixed, u.item.bare, u.item.prefixed + '/', u.item.bare.replace(API_BASE, API_BASE + '/')]) {
        const res = await call(app, admin, 'GET', url)
        t.equal(res.statusCode, 200, `GET ${url}`)
        t.same(res.json(), item, `GET ${url} answers the created item, unwrapped`)
      }
    }
    if (ops.has('list')) {
      const list = (await call(app, admin, 'GET', coll.prefixed)).json() as Record<string, Item[]>
      const summary = list[`${r.singular}_list`]?.find(x => x[r.idField] === id)
      t.same(summary, Object.fromEntries(r.summary.map(f => [f, item[f]])), 'the list shows its summary fields')
      const full = (await call(app, admin, 'GET', coll.prefixed + '?full=true')).json() as Record<string, Item[]>
      t.same(full[`${r.singular}_list`]?.find(x => x[r.idField] === id), item, '?full=true lists full items')
      for (const x of full[`${r.singular}_list`] ?? []) t.same(keysOf(x), responseKeys(r), '?full=true: every field of every item')
      assertEnvelope(t, await call(app, admin, 'GET', coll.prefixed + '?full=yes'), 400, 'Validation', '?full=yes')
    }

    if (!r.serverAssignsId) {
      assertEnvelope(t, await call(app, admin, 'POST', coll.prefixed, sample), 409, 'Conflict', `a second ${r.singular} with ${r.idField} ${id}`)
    }
    for (const field of r.spec.unique ?? []) {
      const again = await maker.body(r)
      const details = assertEnvelope(t, await call(app, admin, 'POST', coll.prefixed, { ...again, [field]: item[field] }), 409, 'Conflict', `a duplicate ${field}`)
      t.ok(details.some(d => d.field === field), `the 409 names ${field}`)
    }
    for (const [field, plural] of Object.entries(r.spec.references ?? {})) {
      if (!(field in sample) || sample[field] === null) continue
      const missing = randomUUID()
      const value = Array.isArray(sample[field]) ? [missing] : missing
      const details = assertEnvelope(t, await call(app, admin, 'POST', coll.prefixed, { ...(await maker.body(r)), [field]: value }), 400, 'Validation', `${field} naming a missing ${plural}`)
      t.ok(details.some(d => d.field === field), `the 400 names ${field}`)
      const target = resources.find(x => x.plural === plural && x.parent === undefined)!
      const used = Array.isArray(sample[field]) ? (sample[field] as string[])[0]! : String(sample[field])
      const conflict = assertEnvelope(t, await call(app, admin, 'DELETE', `${API_BASE}/${plural}/${used}`), 409, 'Conflict', `deleting the ${target.singular} of ${field}`)
      t.ok(conflict.length > 0, 'the 409 names the referrers')
      t.match((await call(app, admin, 'DELETE', `${API_BASE}/${plural}/${used}`)).json(), { error: { message: new RegExp(id) } }, `the 409 names this ${r.singular}`)
    }

    if (ops.has('update')) {
      const change = samples[r.collection]!.change(sampleN)
      const updated = await call(app, admin, 'PUT', u.item.prefixed, change)
      t.equal(updated.statusCode, 200, `PUT ${u.item.prefixed}: 200 (${updated.body.slice(0, 300)})`)
      t.same(updated.json(), { ...item, ...change }, 'PUT merges the given fields over the stored item')
      t.same((await call(app, admin, 'GET', u.item.bare)).json(), updated.json(), 'and the change is stored')
      const current = updated.json() as Item

      // GET-edit-PUT: the whole item, read-only fields included, goes back unchanged.
      const roundTrip = await call(app, admin, 'PUT', u.item.bare, current)
      t.equal(roundTrip.statusCode, 200, 'a GET-edit-PUT round trip works (bare id form)')
      t.same(roundTrip.json(), current, 'and changes nothing')
      const ignored = await call(app, admin, 'PUT', u.item.prefixed, Object.fromEntries(readOnly.map(f => [f, f === r.idField ? randomUUID() : IGNORED])))
      t.equal(ignored.statusCode, 200, 'a PUT of read-only fields only is accepted')
      t.same(ignored.json(), current, 'and ignored')

      const details = assertEnvelope(t, await call(app, admin, 'PUT', u.item.prefixed, { ...change, no_such_field: true }), 400, 'Validation', 'PUT with an unknown field')
      t.ok(details.some(d => d.field === 'no_such_field'), 'the 400 names the unknown field')
      const [field] = Object.keys(change)
      const wrong = assertEnvelope(t, await call(app, admin, 'PUT', u.item.prefixed, { [field!]: { not: 'a scalar' } }), 400, 'Validation', `PUT with a wrong type for ${field}`)
      t.ok(wrong.some(d => d.field === field), `the 400 names ${field}`)
      t.same((await call(app, admin, 'GET', u.item.prefixed)).json(), current, 'refused PUTs change nothing')
      assertEnvelope(t, await call(app, admin, 'PUT', u.item.prefixed, '[]'), 400, 'Validation', 'PUT of a non-object')
    }

    // Unknown ids and parents: 404 in both forms, for every operation.
    const ghost = urls(r, [...parentIds, r.serverAssignsId ? randomUUID() : 'no-such-name'])
    for (const url of [ghost.item.prefixed, ghost.item.bare]) {
      if (ops.has('get')) assertEnvelope(t, await call(app, admin, 'GET', url), 404, 'NotFound', `GET ${url}`)
      if (ops.has('update')) assertEnvelope(t, await call(app, admin, 'PUT', url, samples[r.collection]!.change(0)), 404, 'NotFound', `PUT ${url}`)
      if (ops.has('delete')) assertEnvelope(t, await call(app, admin, 'DELETE', url), 404, 'NotFound', `DELETE ${url}`)
    }
    if (r.parent !== undefined) {
      const orphan = urls(r, [...parentIds.slice(0, -1), randomUUID(), id])
      assertEnvelope(t, await call(app, admin, 'GET', orphan.collection.prefixed), 404, 'NotFound', 'a list under an unknown parent')
      assertEnvelope(t, await call(app, admin, 'GET', orphan.item.prefixed), 404, 'NotFound', 'an item under an unknown parent')
      assertEnvelope(t, await call(app, admin, 'POST', orphan.collection.bare, await maker.body(r)), 404, 'NotFound', 'a create under an unknown parent')
      // The same child under another parent of the same kind is not found.
      const otherParents = await maker.parents(r)
      const elsewhere = urls(r, [...otherParents, id])
      assertEnvelope(t, await call(app, admin, 'GET', elsewhere.item.prefixed), 404, 'NotFound', 'an item under another parent')
    }

    // Wrong methods: 405 with Allow.
    const itemMethods = (['get', 'update', 'delete'] as const).filter(o => ops.has(o)).map(o => ({ get: 'GET', update: 'PUT', delete: 'DELETE' })[o])
    const collMethods = (['list', 'create'] as const).filter(o => ops.has(o)).map(o => ({ list: 'GET', create: 'POST' })[o])
    for (const [url, method, allowed] of [[u.item.prefixed, 'PATCH', itemMethods], [u.item.bare, 'POST', itemMethods], [coll.prefixed, 'DELETE', collMethods], [coll.bare, 'PUT', collMethods]] as const) {
      if (allowed.includes(method)) continue
      const res = await call(app, admin, method, url)
      assertEnvelope(t, res, 405, 'MethodNotAllowed', `${method} ${url}`)
      const allow = String(res.headers.allow).split(/,\s*/)
      for (const m of allowed) t.ok(allow.includes(m), `${method} ${url}: Allow lists ${m}`)
    }

    // Roles: each role outside the resource's access gets 403 before any validation.
    for (const role of Object.keys(USERS) as Role[]) {
      const cookie = await login(app, USERS[role])
      if (!r.access.write.includes(role)) {
        assertEnvelope(t, await call(app, cookie, 'POST', coll.prefixed, { no_such_field: 1 }), 403, 'SessionAuthorization', `${role} creating`)
        if (ops.has('delete')) assertEnvelope(t, await call(app, cookie, 'DELETE', u.item.prefixed), 403, 'SessionAuthorization', `${role} deleting`)
      }
      if (!r.access.read.includes(role)) assertEnvelope(t, await call(app, cookie, 'GET', coll.prefixed), 403, 'SessionAuthorization', `${role} listing`)
    }

    if (ops.has('delete')) {
      const deleted = await call(app, admin, 'DELETE', u.item.bare)
      t.equal(deleted.statusCode, 204, `DELETE ${u.item.bare}: 204`)
      t.equal(deleted.body, '', 'no body')
      assertEnvelope(t, await call(app, admin, 'GET', u.item.prefixed), 404, 'NotFound', 'the deleted item')
      assertEnvelope(t, await call(app, admin, 'DELETE', u.item.prefixed), 404, 'NotFound', 'deleting it again')
      if (ops.has('list')) {
        const list = (await call(app, admin, 'GET', coll.prefixed)).json() as Record<string, Item[]>
        t.notOk(list[`${r.singular}_list`]?.some(x => x[r.idField] === id), 'gone from the list')
      }
      const second = await maker.makeUnder(r, parentIds)
      t.equal((await call(app, admin, 'DELETE', urls(r, [...parentIds, second]).item.prefixed)).statusCode, 204, 'DELETE by the prefixed form: 204')
    }
  })
}

t.test('deleting a parent deletes its children, to any depth', async t => {
  const nested = resources.filter(r => r.parent !== undefined)
  t.ok(nested.length > 0, 'the registry has nested resources')
  for (const r of nested) {
    const app = await makeApp()
    const admin = await login(app)
    const maker = new Maker(app, admin)
    const parentIds = await maker.parents(r)
    const child = await maker.makeUnder(r, parentIds)
    const sibling = await maker.makeUnder(r, await maker.parents(r))
    const top = lineage(r)[0]!
    t.equal((await call(app, admin, 'DELETE', urls(top, [parentIds[0]!]).item.prefixed)).statusCode, 204, `DELETE the ${top.singular}`)
    t.equal(app.kraken.store.get(r.collection, child), undefined, `its ${r.singular} is gone from the store`)
    t.not(app.kraken.store.get(r.collection, sibling), undefined, `another ${top.singular}'s ${r.singular} stays`)
    t.notOk(JSON.stringify(app.kraken.store.snapshot()).includes(`"_parent":"${parentIds[0]}"`), 'nothing refers to the deleted parent')
    await app.close()
  }
})

t.test('nested items never show their parent key', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const admin = await login(app)
  const maker = new Maker(app, admin)
  for (const r of resources.filter(x => x.parent !== undefined)) {
    const parentIds = await maker.parents(r)
    const id = await maker.makeUnder(r, parentIds)
    const u = urls(r, [...parentIds, id])
    t.notMatch((await call(app, admin, 'GET', u.item.prefixed)).body, '_parent')
    t.notMatch((await call(app, admin, 'GET', u.collection.prefixed + '?full=true')).body, '_parent')
  }
})
