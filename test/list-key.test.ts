// Every list answers under its own collection's key (issue 11): with `--fixture empty`, inputs
// once answered {"stream_list": []} because every absent collection shared one empty array and the
// list cache (src/kernel/crud-routes.ts) was keyed by that array alone.
import t from 'tap'
import fc from 'fast-check'
import { fixtureNames } from '../src/fixtures.ts'
import { PARENT_KEY, collectionRoute, itemUrl, type Resource } from '../src/kernel/define-resource.ts'
import type { Item } from '../src/kernel/store.ts'
import { resources } from '../src/resources/index.ts'
import { call, login, makeApp } from './helpers/app.ts'
import { samples } from './helpers/samples.ts'

const listed = resources.filter(r => r.spec.operations === undefined || r.spec.operations.includes('list'))
const fixtures = fixtureNames()
// 25 sequences of up to 12 steps, each from a reset (a few seconds); CI=true runs 100.
const RUNS = process.env.CI === 'true' ? 100 : 25

type Step =
  | { kind: 'list', resource: number, full: boolean, parent: number }
  | { kind: 'create', resource: number, parent: number }
  | { kind: 'delete', resource: number, pick: number }
  | { kind: 'reset', fixture: number }

const index = fc.nat({ max: 1000 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('list' as const), resource: index, full: fc.boolean(), parent: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('create' as const), resource: index, parent: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), resource: index, pick: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), fixture: index }) }
)

t.test('every collection lists under its own key, whatever the fixture, writes and resets before', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  let cookie = ''
  let n = 0
  const checked = new Set<string>()

  const pick = <T>(items: readonly T[], i: number): T | undefined => items.length === 0 ? undefined : items[i % items.length]
  /** The ids of the path's ancestors, top first, for an item of a nested collection. */
  const ancestry = (r: Resource, parentId: string): string[] => {
    const ids = [parentId]
    for (let p = r.parent; p?.parent !== undefined; p = p.parent) {
      ids.unshift(String(app.kraken.store.get(p.collection, ids[0]!)?.[PARENT_KEY]))
    }
    return ids
  }
  const collectionUrl = (r: Resource, parentId: string | undefined): string =>
    parentId === undefined ? collectionRoute(r) : `${itemUrl(r.parent!, ancestry(r, parentId))}/${r.plural}`
  /** The parent to list or create under: undefined for a top-level resource, null when there is none. */
  const parentOf = (r: Resource, i: number): string | undefined | null => {
    if (r.parent === undefined) return undefined
    const parent = pick(app.kraken.store.list(r.parent.collection), i)
    return parent === undefined ? null : String(parent[r.parent.idField])
  }
  const expectStatus = (status: number, what: string): void => {
    if (status >= 500 || status === 401) throw new Error(`${what} answered ${status}`)
  }

  const list = async (r: Resource, full: boolean, parentId: string | undefined): Promise<void> => {
    const url = `${collectionUrl(r, parentId)}${full ? '?full=true' : ''}`
    const res = await call(app, cookie, 'GET', url)
    if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`)
    const keys = Object.keys(res.json() as object)
    const own = `${r.singular}_list`
    if (keys.length !== 1 || keys[0] !== own) throw new Error(`GET ${url} answered under ${JSON.stringify(keys)}, not ["${own}"]`)
    checked.add(`${r.collection}${full ? ' full' : ''}`)
  }
  /** Every collection (each parent of a nested one), minimal then full. */
  const sweep = async (): Promise<void> => {
    for (const full of [false, true]) {
      for (const r of listed) {
        if (r.parent === undefined) await list(r, full, undefined)
        else for (const parent of app.kraken.store.list(r.parent.collection)) await list(r, full, String(parent[r.parent.idField]))
      }
    }
  }
  const reset = async (fixture: string): Promise<void> => {
    await app.kraken.reset(fixture)
    cookie = await login(app) // a reset ends every session
  }
  /** Creates an item through the API and returns its id (samples name their prerequisites). */
  const create = async (r: Resource, parentId: string | undefined): Promise<string | undefined> => {
    const sample = samples[r.collection]
    if (sample === undefined) throw new Error(`no sample for ${r.collection}`)
    const body = await sample.create(n++, async collection => {
      const made = await create(listed.find(x => x.collection === collection)!, undefined)
      if (made === undefined) throw new Error(`could not create a ${collection} prerequisite`)
      return made
    })
    const res = await call(app, cookie, 'POST', collectionUrl(r, parentId), body)
    expectStatus(res.statusCode, `POST ${r.collection}`)
    return res.statusCode === 201 ? String((res.json() as Item)[r.idField]) : undefined
  }
  const remove = async (r: Resource, i: number): Promise<void> => {
    // Not the account the test is logged in as: every later step would answer 401.
    const victim = pick(app.kraken.store.list(r.collection).filter(item => item.name !== 'haiadmin'), i)
    if (victim === undefined) return
    const id = String(victim[r.idField])
    const parentId = victim[PARENT_KEY] as string | undefined
    const ids = parentId === undefined ? [id] : [...ancestry(r, parentId), id]
    const res = await call(app, cookie, 'DELETE', itemUrl(r, ids))
    expectStatus(res.statusCode, `DELETE ${r.collection}`)
  }

  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...fixtures),
    fc.array(step, { maxLength: 12 }),
    async (fixture, steps) => {
      await reset(fixture)
      await sweep()
      for (const s of steps) {
        if (s.kind === 'reset') {
          await reset(fixtures[s.fixture % fixtures.length]!)
          continue
        }
        const r = listed[s.resource % listed.length]!
        const parentId = parentOf(r, s.kind === 'delete' ? 0 : s.parent)
        if (s.kind === 'list') {
          if (parentId !== null) await list(r, s.full, parentId)
        } else if (s.kind === 'create') {
          if (parentId !== null) await create(r, parentId)
        } else {
          await remove(r, s.pick)
        }
      }
      await sweep()
    }
  ), { numRuns: RUNS })
  t.ok(fixtures.includes('empty') && fixtures.includes('default'), `fixtures tried: ${fixtures.join(', ')}`)
  t.same([...checked].sort(), listed.flatMap(r => [r.collection, `${r.collection} full`]).sort(), 'every collection was listed, minimal and full')
})
