import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { TObject } from 'typebox'
import type { KrakenApp } from '../app.ts'
import { checkDb } from '../check-db.ts'
import { dbFromFixture, FixtureError, type Fixture } from '../fixtures.ts'
import { PARENT_KEY, type Resource } from '../kernel/define-resource.ts'
import type { Item } from '../kernel/store.ts'
import { compile, detailsOf } from '../kernel/validator.ts'
import { CURRENT_FORMAT } from '../migrations/index.ts'
import { StoredLicense } from '../system/license.ts'
import { Network } from '../system/network-schema.ts'
import { StoredServices } from '../system/services-schema.ts'
import { SystemIdentity } from '../system/systeminfo.ts'
import type { Capture } from './capture-format.ts'
import { RouteMatcher } from './known-routes.ts'

/** What a capture seeds: a fixture, and every part of the capture it could not hold, one line each. */
export interface CapturedFixture {
  collections: Record<string, Item[]>
  singletons: Record<string, Record<string, unknown>>
  unrepresented: string[]
}

/** A system endpoint whose answer a singleton stores: the keys it keeps, and those the emulator computes. */
interface SingletonSource { singleton: string, schema: TObject, computed: readonly string[] }
const SINGLETONS: Record<string, SingletonSource> = {
  '/apis/v2/systeminfo': { singleton: 'systeminfo', schema: SystemIdentity, computed: ['result', 'currenttime', 'uptime', 'hostname'] },
  '/apis/v2/system/network': { singleton: 'network', schema: Network, computed: [] },
  '/apis/v2/license': { singleton: 'license', schema: StoredLicense, computed: ['active_bypass_sessions', 'active_transcoder_sessions'] }
}
const SERVICES_LIST = '/apis/v2/system/services'
const SERVICE_ROUTES = new Set(['/apis/v2/system/services/{name}', '/apis/v2/system/services/rtspserver', '/apis/v2/system/services/webserver'])

/** Why an answer has no place in a fixture, for the routes where the reason is known. */
const NOT_SEED: Array<[RegExp, string]> = [
  [/\/statistics$/, 'live statistics: the emulator computes them from the running streams'],
  [/\/system\/metric\/snapshot$/, 'live metrics: the emulator computes them'],
  [/\/session$/, 'the session of the caller: sessions are not seed data'],
  [/\/accounts/, 'accounts: a capture holds no passwords, so the fixture keeps the default accounts'],
  [/\/presets/, 'presets: not part of a fixture'],
  [/\/certificates/, 'certificates: not part of a fixture (their keys never leave the device)']
]

/**
 * Builds a fixture from what a capture shows: each object the device listed or returned (with its
 * id), the system singletons, NICs and licence. Writes are followed in order (a created object
 * is added, a deleted one removed), so the fixture is the device as the capture last saw it.
 * Whatever the emulator cannot hold (an unknown field, a value of another type, an endpoint with
 * no seed data) is left out and listed, never dropped silently. The result passes the checks
 * any fixture passes (check-db.ts).
 */
export function fixtureFromCapture (capture: Capture, app: KrakenApp): CapturedFixture {
  const matcher = new RouteMatcher(app)
  const resources = resourceTemplates(app.kraken.registry.resources)
  const items = new Map<Resource, Map<string, Item>>()
  const singletons: Record<string, Record<string, unknown>> = {}
  const services: Record<string, Record<string, unknown>> = {}
  const unrepresented = new Set<string>()
  const itemsOf = (r: Resource) => { let m = items.get(r); if (m === undefined) { m = new Map(); items.set(r, m) } return m }

  for (const exchange of capture.exchanges) {
    const { request, response } = exchange
    if (response === null || response.status < 200 || response.status > 299) continue
    const match = matcher.match(request.method === 'HEAD' ? 'GET' : request.method, request.path)
    const json = response.body?.json
    const body = json !== null && typeof json === 'object' && !Array.isArray(json) ? json as Record<string, unknown> : undefined
    const hit = match === undefined ? undefined : resources.get(match.template)
    if (hit !== undefined && match !== undefined) {
      const { resource, kind } = hit
      const parent = resource.parent === undefined ? undefined : match.params[resource.parent.paramName]
      if (request.method === 'DELETE' && kind === 'item') {
        itemsOf(resource).delete(String(match.params[resource.paramName]))
      } else if (body !== undefined && kind === 'list' && request.method === 'GET') {
        const list = body[`${resource.singular}_list`]
        for (const summary of Array.isArray(list) ? list : []) {
          const id = (summary as Item | null)?.[resource.idField]
          if (id === undefined || itemsOf(resource).has(String(id))) continue
          itemsOf(resource).set(String(id), { ...(summary as Item), ...(parent === undefined ? {} : { [PARENT_KEY]: parent }) })
        }
      } else if (body !== undefined && (kind === 'item' || (kind === 'list' && request.method === 'POST'))) {
        const id = body[resource.idField]
        if (id !== undefined) itemsOf(resource).set(String(id), { ...body, ...(parent === undefined ? {} : { [PARENT_KEY]: parent }) })
      }
      continue
    }
    if (request.method !== 'GET' || body === undefined || match === undefined) continue
    const source = SINGLETONS[match.template]
    if (source !== undefined) {
      const kept: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(body)) {
        if (key in source.schema.properties) kept[key] = value
        else if (!source.computed.includes(key)) unrepresented.add(`${match.template}: field "${key}" (the emulator has no such field)`)
      }
      singletons[source.singleton] = { ...singletons[source.singleton], ...kept }
    } else if (match.template === SERVICES_LIST) {
      for (const s of Array.isArray(body.service_list) ? body.service_list as Item[] : []) {
        if (typeof s.name === 'string' && typeof s.enabled === 'boolean') services[s.name] = { enabled: s.enabled, ...services[s.name] }
      }
    } else if (SERVICE_ROUTES.has(match.template)) {
      const name = request.path.split('/').pop() ?? ''
      const { name: _n, status: _s, ...stored } = body
      services[decodeURIComponent(name)] = { ...services[decodeURIComponent(name)], ...stored }
    } else {
      const reason = NOT_SEED.find(([re]) => re.test(match.template))?.[1] ?? 'the emulator\'s fixtures have no place for it'
      unrepresented.add(`GET ${match.template}: ${reason}`)
    }
  }
  const known = StoredServices.properties as Record<string, TObject>
  for (const [name, value] of Object.entries(services)) {
    if (known[name] === undefined) unrepresented.add(`service "${name}": the emulator has no such service`)
    else (singletons.services ??= {})[name] = clean(value, known[name], `service ${name}`, unrepresented)
  }
  for (const source of Object.values(SINGLETONS)) {
    const value = singletons[source.singleton]
    if (value !== undefined) singletons[source.singleton] = clean(value, source.schema, source.singleton, unrepresented)
  }
  const collections: Record<string, Item[]> = {}
  for (const [resource, byId] of items) {
    if (resource.collection === 'accounts') {
      if (byId.size > 0) unrepresented.add(`accounts (${byId.size}): a capture holds no passwords, so the fixture keeps the default accounts`)
      continue
    }
    const response = resource.schemas.Response
    const kept: Item[] = []
    for (const item of byId.values()) {
      const { [PARENT_KEY]: parent, ...fields } = item
      // Fields the emulator computes when it answers (in its answers, not in what it stores): left to it.
      for (const key of Object.keys(fields)) if (!(key in resource.schemas.Item.properties) && key in response.properties) delete fields[key]
      const label = `${resource.singular} ${String(item[resource.idField])}`
      const checked = cleanItem(fields, resource.schemas.Item, label, unrepresented)
      if (checked !== undefined) kept.push(parent === undefined ? checked : { ...checked, [PARENT_KEY]: parent })
    }
    if (kept.length > 0) collections[resource.collection] = kept
  }
  settle(collections, singletons, app, unrepresented)
  return { collections, singletons, unrepresented: [...unrepresented].sort() }
}

/** The list and item templates of every resource, `{param}` style, nested ones under their parent's item. */
function resourceTemplates (resources: readonly Resource[]): Map<string, { resource: Resource, kind: 'list' | 'item' }> {
  const out = new Map<string, { resource: Resource, kind: 'list' | 'item' }>()
  const itemTemplate = (r: Resource): string => `${r.parent === undefined ? '/apis/v2' : itemTemplate(r.parent)}/${r.plural}/${r.singular}-{${r.paramName}}`
  for (const r of resources) {
    const item = itemTemplate(r)
    out.set(item, { resource: r, kind: 'item' })
    out.set(item.slice(0, item.lastIndexOf('/')), { resource: r, kind: 'list' })
  }
  return out
}

/** An object's keys that its schema knows and values it accepts; the others are listed and left out. */
function clean (value: Record<string, unknown>, schema: TObject, label: string, unrepresented: Set<string>): Record<string, unknown> {
  return cleanItem(value, schema, label, unrepresented, false) ?? {}
}

function cleanItem (value: Record<string, unknown>, schema: TObject, label: string, unrepresented: Set<string>, dropWhole = true): Item | undefined {
  const out: Item = {}
  for (const [key, v] of Object.entries(value)) {
    if (key in schema.properties) out[key] = v
    else unrepresented.add(`${label}: field "${key}" (the emulator has no such field)`)
  }
  const validate = compile(schema)
  for (let tries = 0; tries < 50; tries++) {
    const copy = structuredClone(out)
    if (validate(copy)) return out
    const detail = detailsOf(validate.errors ?? [])[0]
    const key = detail?.field.split('.')[0]
    if (key === undefined || key === '' || !(key in out) || (schema.required ?? []).includes(key)) {
      unrepresented.add(`${label}: left out (${detail === undefined ? 'does not match the emulator\'s schema' : `${detail.field} ${detail.message}`})`)
      return dropWhole ? undefined : {}
    }
    unrepresented.add(`${label}: field "${key}" left out (${detail!.field} ${detail!.message}; found ${JSON.stringify(out[key])?.slice(0, 60)})`)
    delete out[key]
  }
  return dropWhole ? undefined : {}
}

/** Runs the checks every fixture passes; an object that breaks one (a reference to one left out) is left out too, and listed. */
function settle (collections: Record<string, Item[]>, singletons: Record<string, Record<string, unknown>>, app: KrakenApp, unrepresented: Set<string>): void {
  for (let tries = 0; tries < 1000; tries++) {
    const db = dbFromFixture(asFixture(collections, singletons, 'capture'), [])
    try {
      checkDb(db, app.kraken.registry)
      return
    } catch (error) {
      const message = (error as Error).message
      const at = /^([\w.]+)\[(\d+)\]/.exec(message)
      const single = /^singletons\.(\w+):/.exec(message)
      if (at !== null && collections[at[1]!] !== undefined) {
        collections[at[1]!]!.splice(Number(at[2]), 1)
      } else if (single !== null) {
        delete singletons[single[1]!]
      } else {
        throw new FixtureError(`the capture makes no valid fixture: ${message}`)
      }
      unrepresented.add(`left out: ${message}`)
    }
  }
}

function asFixture (collections: Record<string, Item[]>, singletons: Record<string, Record<string, unknown>>, name: string): Fixture {
  return { name, format: CURRENT_FORMAT, description: '', collections, singletons }
}

/** Writes a fixture folder (fixture.json, singletons.json, one file per collection) that --fixture reads. */
export function writeFixtureFolder (dir: string, fixture: CapturedFixture, description: string): void {
  mkdirSync(dir, { recursive: true })
  const write = (file: string, value: unknown) => writeFileSync(path.join(dir, file), JSON.stringify(value, null, 2) + '\n')
  write('fixture.json', { format: CURRENT_FORMAT, description, unrepresented: fixture.unrepresented })
  write('singletons.json', fixture.singletons)
  for (const [collection, items] of Object.entries(fixture.collections)) write(`${collection}.json`, items)
}
