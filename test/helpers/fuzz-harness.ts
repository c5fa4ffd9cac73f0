// The property-based bad-input harness: every write endpoint the app documents in /apidoc/json
// (so a new one is covered without touching the tests), hit with generated and mutated requests.
// Properties checked on every case: no 5xx, the device's Server and HSTS headers on every response
// and the exact JSON content type on every body (kraken-api.md section 1), an error is the envelope
// of kraken-api.md section 4, a rejected request leaves the store exactly as it was, an accepted one
// leaves a store that survives a JSON round trip and checkDb (what the durable store would write
// and reload), and Object.prototype is never polluted.
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import type { KrakenApp } from '../../src/app.ts'
import type { Role } from '../../src/kernel/roles.ts'
import { checkDb } from '../../src/check-db.ts'
import { PARENT_KEY } from '../../src/kernel/define-resource.ts'
import { arbitraryOf } from './fuzz-schema.ts'
import { collectionOf, type Endpoint } from './fuzz-endpoints.ts'
import { badId, contentType, mutate, mutations, textDamage, toPayload, type Mutation, type TextDamage } from './fuzz-mutations.ts'
import { deviceHeaderProblems } from './device-headers.ts'

interface Case {
  /** index into the endpoint's valid param tuples, or a replacement for one id */
  ids: { tuple: number, broken: { at: number, value: string } | undefined, bare: boolean }
  body: { kind: 'valid', value: unknown } | { kind: 'mutated', value: unknown, mutations: Mutation[] } | { kind: 'garbage', value: unknown } | { kind: 'none' }
  damage: TextDamage
  seed: number
  contentType: string | undefined
  role: Role | 'none'
  query: string
}

export interface FuzzResult { cases: number, statuses: Map<number, number> }

/** A store fingerprint: cheap enough to take twice per case on a fixture-sized store. */
function fingerprint (app: KrakenApp): string {
  // The faults in force count as state too: a case that added one (say a `reset` of every request)
  // must be undone before the next case, which it would otherwise strike (an injected request
  // whose connection is cut never answers).
  return JSON.stringify({ store: app.kraken.store.snapshot(), faults: app.kraken.faults.all().map(f => f.id) })
}

export class FuzzHarness {
  readonly app: KrakenApp
  readonly fixture: string
  #cookies = new Map<Role, string>()
  // The store's fingerprint while it is known to be unchanged, so each case takes one, not two.
  #clean: string | undefined

  constructor (app: KrakenApp, fixture: string) {
    this.app = app
    this.fixture = fixture
  }

  /** A live session for a role, created directly (a login per case would cost a scrypt). */
  cookie (role: Role): string {
    const { sessions } = this.app.kraken
    const current = this.#cookies.get(role)
    if (current !== undefined && sessions.touch(current.slice(3)) !== undefined) return current
    const username = { Administrator: 'haiadmin', Operator: 'operator', Viewer: 'user' }[role]
    const cookie = `id=${sessions.create(username, role).id}`
    this.#cookies.set(role, cookie)
    return cookie
  }

  /** Back to the fixture, for the next case, after one changed the state. */
  async restore (): Promise<void> {
    await this.app.kraken.reset(this.fixture)
    this.#cookies.clear()
    this.#clean = fingerprint(this.app)
  }

  /** Concrete values for the endpoint's path parameters, parents first, from the live store. */
  paramTuples (endpoint: Endpoint): string[][] {
    const { registry, store } = this.app.kraken
    let tuples: Array<{ ids: string[], parent: string | undefined }> = [{ ids: [], parent: undefined }]
    for (const param of endpoint.params) {
      const resource = registry.resources.find(r => r.paramName === param)
      const next: typeof tuples = []
      for (const t of tuples) {
        if (resource === undefined) {
          for (const value of this.#guessValues(endpoint, param)) next.push({ ids: [...t.ids, value], parent: undefined })
          continue
        }
        for (const item of store.list(resource.collection)) {
          if (resource.parent !== undefined && item[PARENT_KEY] !== t.parent) continue
          const id = String(item[resource.idField])
          next.push({ ids: [...t.ids, id], parent: id })
        }
      }
      tuples = next
    }
    return tuples.map(t => t.ids).slice(0, 64)
  }

  /** A parameter no resource owns (`/system/services/{name}`): the names the sibling list shows. */
  #guessValues (endpoint: Endpoint, param: string): string[] {
    return this.#listedNames.get(collectionOf(endpoint, param)) ?? []
  }

  #listedNames = new Map<string, string[]>()

  /** Reads the collections that hand-written parameters name, once, as an Administrator. */
  async discover (endpoints: readonly Endpoint[]): Promise<void> {
    for (const e of endpoints) {
      for (const param of e.params) {
        if (this.app.kraken.registry.resources.some(r => r.paramName === param)) continue
        const collection = collectionOf(e, param)
        if (this.#listedNames.has(collection) || collection.includes('{')) continue
        const res = await this.app.inject({ method: 'GET', url: collection, headers: { cookie: this.cookie('Administrator') } })
        const names: string[] = []
        if (res.statusCode === 200) collectNames(res.json(), names)
        this.#listedNames.set(collection, [...new Set(names)])
      }
    }
  }

  /** The fast-check model of one request to `endpoint`. */
  caseOf (endpoint: Endpoint, examples: readonly unknown[] = []): fc.Arbitrary<Case> {
    const knownIds = this.#knownIds()
    const schema = endpoint.body
    const names = Object.keys(schema?.properties ?? {})
    const generated = arbitraryOf(schema, { knownIds })
    // An example with one field regenerated from the schema (often the unique name).
    const fromExample = examples.length === 0 || names.length === 0
      ? generated
      : fc.tuple(fc.constantFrom(...examples), fc.constantFrom(...names), fc.boolean()).chain(([example, field, change]) =>
        (change ? arbitraryOf(schema?.properties?.[field], { knownIds }) : fc.constant(undefined)).map(value =>
          change && value !== undefined ? { ...(example as Record<string, unknown>), [field]: value } : example))
    const valid = fc.oneof(generated, fromExample)
    const body: fc.Arbitrary<Case['body']> = schema === undefined
      ? fc.oneof({ weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map(value => ({ kind: 'garbage' as const, value })) })
      : fc.oneof(
        { weight: 3, arbitrary: valid.map(value => ({ kind: 'valid' as const, value })) },
        { weight: 6, arbitrary: fc.tuple(valid, mutations).map(([value, m]) => ({ kind: 'mutated' as const, value: mutate(value, m, names), mutations: m })) },
        { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant(undefined)).map(value => ({ kind: 'garbage' as const, value })) }
      )
    const ids = fc.record({
      tuple: fc.nat(),
      // One case in five aims at a broken path; the rest reach the handler.
      broken: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.record({ at: fc.nat(), value: badId }) }),
      bare: fc.boolean()
    })
    return fc.record({
      ids,
      body,
      damage: textDamage,
      seed: fc.nat(),
      contentType,
      role: fc.oneof({ weight: 18, arbitrary: fc.constant<Role | 'none'>('Administrator') }, { weight: 1, arbitrary: fc.constantFrom<Role | 'none'>('Operator', 'Viewer', 'none') }),
      query: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('?full=true', '?x=%ff', '?__proto__[polluted]=yes', '?constructor[prototype][polluted]=yes', '?a=' + 'b'.repeat(5000)) })
    })
  }

  #knownIds (): string[] {
    const ids: string[] = []
    for (const r of this.app.kraken.registry.resources) {
      for (const item of this.app.kraken.store.list(r.collection)) ids.push(String(item[r.idField]))
    }
    return ids
  }

  /** The URL a case addresses. */
  urlOf (endpoint: Endpoint, c: Case, tuples: readonly string[][]): string {
    const tuple = tuples.length === 0 ? [] : tuples[c.ids.tuple % tuples.length] as string[]
    let n = 0
    let url = endpoint.path.replace(/([\w-]*?)\{(\w+)\}/g, (_m, prefix: string) => {
      const i = n++
      const broken = c.ids.broken !== undefined && c.ids.broken.at % Math.max(1, endpoint.params.length) === i ? c.ids.broken.value : undefined
      const value = broken ?? encodeURIComponent(tuple[i] ?? 'missing')
      // Field clients address items by bare id too (kraken-api.md section 3).
      return c.ids.bare && prefix !== '' ? value : prefix + value
    })
    if (c.ids.broken !== undefined && endpoint.params.length === 0) url += '/' + c.ids.broken.value
    return url + c.query
  }

  /** Runs one case and checks every property; throws a descriptive Error on a violation. */
  async check (endpoint: Endpoint, c: Case, tuples: readonly string[][], result: FuzzResult): Promise<void> {
    const url = this.urlOf(endpoint, c, tuples)
    const headers: Record<string, string> = {}
    if (c.role !== 'none') headers.cookie = this.cookie(c.role)
    if (c.contentType !== undefined && c.body.kind !== 'none') headers['content-type'] = c.contentType
    const payload = c.body.kind === 'none' ? undefined : toPayload(c.body.value, c.damage, c.seed)
    const before = this.#clean ??= fingerprint(this.app)
    let res: LightMyRequestResponse
    try {
      res = await this.app.inject({ method: endpoint.method, url, headers, ...(payload === undefined ? {} : { payload }) })
    } catch (error) {
      throw new Error(`${describe(endpoint, url, payload)}: inject threw ${(error as Error).stack ?? String(error)}`)
    }
    result.cases++
    result.statuses.set(res.statusCode, (result.statuses.get(res.statusCode) ?? 0) + 1)
    const where = (): string => `${describe(endpoint, url, payload)} -> ${res.statusCode} ${res.body.slice(0, 400)}`
    if (res.statusCode >= 500) throw new Error(`5xx: ${where()}`)
    const headerProblems = deviceHeaderProblems(res.headers)
    if (headerProblems.length > 0) throw new Error(`not the device's headers (${headerProblems.join('; ')}): ${where()}`)
    // Field clients refuse a JSON answer of any other type, a success as much as an error.
    const type = String(res.headers['content-type'] ?? '')
    if (res.body !== '' && type !== JSON_TYPE) throw new Error(`a body without the JSON content type (${type}): ${where()}`)
    if (polluted()) throw new Error(`Object.prototype polluted: ${where()}`)
    if (res.statusCode >= 400) {
      checkEnvelope(res, where)
      if (fingerprint(this.app) !== before) throw new Error(`a rejected request changed the store: ${where()}`)
      return
    }
    // Accepted: what the durable store would write must load again.
    const { registry, store } = this.app.kraken
    const reloaded = JSON.parse(JSON.stringify(store.snapshot())) as ReturnType<typeof store.snapshot>
    try {
      checkDb(reloaded, registry)
    } catch (error) {
      throw new Error(`an accepted request left a store that would not load again (${(error as Error).message}): ${where()}`)
    }
    if (fingerprint(this.app) !== before) await this.restore()
  }

  /** Bodies the app itself shows for what an endpoint writes: the item a PUT changes, the items
   *  of the collection a POST adds to. Mutating a real item reaches the rules behind the schema
   *  far more often than a body generated from the schema alone. */
  async examples (endpoint: Endpoint, tuples: readonly string[][]): Promise<unknown[]> {
    if (endpoint.body?.properties === undefined) return []
    const names = new Set(Object.keys(endpoint.body.properties))
    const keep = (item: unknown): unknown => Object.fromEntries(Object.entries(item as Record<string, unknown>).filter(([k]) => names.has(k)))
    const out: unknown[] = []
    for (const tuple of (tuples.length === 0 ? [[]] : tuples).slice(0, 8)) {
      let n = 0
      const url = endpoint.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(tuple[n++] ?? ''))
      const res = await this.app.inject({ method: 'GET', url: endpoint.method === 'POST' ? `${url}?full=true` : url, headers: { cookie: this.cookie('Administrator') } })
      if (res.statusCode !== 200) continue
      const body = res.json() as unknown
      const list = Object.entries(body as Record<string, unknown>).find(([k, v]) => k.endsWith('_list') && Array.isArray(v))?.[1] as unknown[] | undefined
      for (const item of list ?? [body]) if (typeof item === 'object' && item !== null && !Array.isArray(item)) out.push(keep(item))
    }
    return out.slice(0, 32)
  }
}

function collectNames (value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectNames(v, out)
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'name' || k === 'uuid' || k === 'id') && typeof v === 'string') out.push(v)
      else if (typeof v === 'object') collectNames(v, out)
    }
  }
}

const JSON_TYPE = 'application/json; charset=utf-8'

function checkEnvelope (res: LightMyRequestResponse, where: () => string): void {
  const type = String(res.headers['content-type'] ?? '')
  if (type !== JSON_TYPE) throw new Error(`error without the JSON content type (${type}): ${where()}`)
  let body: unknown
  try {
    body = res.json()
  } catch {
    throw new Error(`error body is not JSON: ${where()}`)
  }
  const error = (body as { error?: { type?: unknown, message?: unknown, details?: unknown } }).error
  if (typeof error?.type !== 'string' || typeof error.message !== 'string' || !Array.isArray(error.details)) {
    throw new Error(`error body is not the envelope: ${where()}`)
  }
}

const PRISTINE = Object.getOwnPropertyNames(Object.prototype).sort().join(',')
function polluted (): boolean {
  return Object.getOwnPropertyNames(Object.prototype).sort().join(',') !== PRISTINE ||
    (({}) as Record<string, unknown>).polluted !== undefined || (({}) as Record<string, unknown>).isAdmin !== undefined
}

function describe (endpoint: Endpoint, url: string, payload: Buffer | undefined): string {
  const shown = url.length > 200 ? `${url.slice(0, 200)}...(${url.length} chars)` : url
  const body = payload === undefined ? '(no body)' : payload.length > 300 ? `${payload.subarray(0, 300).toString('latin1')}...(${payload.length} bytes)` : payload.toString('latin1')
  return `${endpoint.method} ${shown} body=${body}`
}

/** Runs `runs` cases against one endpoint; resolves with what was seen, throws on a violation. */
export async function fuzzEndpoint (harness: FuzzHarness, endpoint: Endpoint, runs: number, seed: number): Promise<FuzzResult> {
  const result: FuzzResult = { cases: 0, statuses: new Map() }
  await harness.restore()
  const tuples = harness.paramTuples(endpoint)
  const examples = await harness.examples(endpoint, tuples)
  await fc.assert(
    fc.asyncProperty(harness.caseOf(endpoint, examples), async c => { await harness.check(endpoint, c, tuples, result) }),
    { numRuns: runs, seed, endOnFailure: true, includeErrorInReport: true }
  )
  return result
}
