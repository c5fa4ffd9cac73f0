// Every route x every role (kraken-api.md section 2, Roles). The route list is read from the app
// itself (an onRoute hook installed the moment Fastify creates the instance), so a route added
// later is covered without editing this file; its expected roles come from the contract's table
// below, and a route the table does not cover fails the test until someone writes its rule.
import t from 'tap'
import diagnostics from 'node:diagnostics_channel'
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { KrakenApp } from '../src/app.ts'
import type { Role } from '../src/kernel/roles.ts'
import { PARENT_KEY, type Resource } from '../src/kernel/define-resource.ts'
import { makeApp, USERS } from './helpers/app.ts'
import { SEEDED_CERTIFICATE, SEEDED_PRESET, seedAdministration } from './helpers/admin-seed.ts'

const API = '/apis/v2'
const ALL: readonly Role[] = ['Administrator', 'Operator', 'Viewer']
const MEDIA_WRITERS: readonly Role[] = ['Administrator', 'Operator']
const ADMIN: readonly Role[] = ['Administrator']
const MEDIA = new Set(['streams', 'inputs', 'outputs', 'transcoders', 'metadata'])
const READS = new Set(['GET', 'HEAD'])

/**
 * The contract's roles table as rules. Administrator: everything. Operator: read everything;
 * write and start/stop streams, inputs, outputs, transcoders, metadata; its own password.
 * Viewer: read everything except other accounts (hidden per item, not per route); its own password.
 */
function expectedRoles (method: string, url: string): readonly Role[] | 'open' | undefined {
  const path = url.slice(API.length)
  if (path === '/login' || path === '/logout') return 'open'
  if (/^\/accounts\/account-:[^/]+\/password$/.test(path)) return ALL
  // Presets (kraken-api.md section 10 [ours]): the file holds SRT passphrases, so only Administrators
  // export it; Operators load; Administrators manage.
  if (/^\/presets\/preset-:[^/]+\/file$/.test(path)) return ADMIN
  if (/^\/presets\/preset-:[^/]+\/load$/.test(path)) return MEDIA_WRITERS
  if (path.startsWith('/presets') && !READS.has(method)) return ADMIN
  // Certificates: every role reads (no key is ever shown); Administrators manage.
  if (path.startsWith('/certificates') && !READS.has(method)) return ADMIN
  if (READS.has(method)) return ALL
  const top = path.split('/')[1] ?? ''
  if (MEDIA.has(top)) return MEDIA_WRITERS
  // Archive locations are the device's storage, administered like the network settings [ours].
  if (top === 'accounts' || top === 'system' || top === 'license' || top === 'archive_locations') return ADMIN
  return undefined
}

/** Values for path parameters that name no resource. */
const OTHER_PARAMS: Record<string, string> = { name: 'ssh' }
/** ... unless the path says otherwise: the preset and certificate every call finds (helpers/admin-seed.ts). */
const PARAMS_BY_PREFIX: Array<[string, Record<string, string>]> = [[`${API}/presets/`, { name: SEEDED_PRESET }], [`${API}/certificates/`, { name: SEEDED_CERTIFICATE }]]

interface Route { method: string, url: string, roles: readonly Role[] | undefined, hasBody: boolean }

/** Builds an app while recording every route it registers. */
async function appWithRoutes (): Promise<{ app: KrakenApp, routes: Route[] }> {
  const routes: Route[] = []
  const channel = diagnostics.channel('fastify.initialization')
  const collect = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of ([] as string[]).concat(route.method)) {
        routes.push({ method, url: route.url, roles: route.config?.roles, hasBody: route.schema?.body !== undefined })
      }
    })
  }
  channel.subscribe(collect)
  let app: KrakenApp
  try {
    app = await makeApp({ fixture: 'default' })
  } finally {
    channel.unsubscribe(collect)
  }
  await app.ready()
  return { app, routes }
}

/** A concrete URL for a route pattern: ids of existing items of the default fixture. */
function concreteUrl (app: KrakenApp, url: string, role: Role): string {
  const { registry, store } = app.kraken
  const byParam = new Map<string, Resource>(registry.resources.map(r => [r.paramName, r]))
  const params = [...url.matchAll(/:(\w+)/g)].map(m => m[1]!)
  const values: Record<string, string> = {}
  const deepest = [...params].reverse().find(p => byParam.has(p))
  if (deepest !== undefined) {
    const resource = byParam.get(deepest)!
    // An account is read by its owner, so a Viewer's allowed call is not refused for visibility.
    let item = resource.plural === 'accounts'
      ? store.get(resource.collection, USERS[role])
      : store.list(resource.collection)[0]
    if (item === undefined) throw new Error(`the default fixture has no ${resource.singular} for ${url}`)
    for (let r: Resource | undefined = resource; r !== undefined; r = r.parent) {
      values[r.paramName] = String(item![r.idField])
      if (r.parent !== undefined) item = store.get(r.parent.collection, String(item![PARENT_KEY]))
    }
  }
  return url.replace(/:(\w+)/g, (_m, p: string) => {
    const byPrefix = PARAMS_BY_PREFIX.find(([prefix]) => url.startsWith(prefix))?.[1]
    const value = values[p] ?? byPrefix?.[p] ?? OTHER_PARAMS[p]
    if (value === undefined) throw new Error(`no value for :${p} in ${url}: add one to OTHER_PARAMS`)
    return encodeURIComponent(value)
  })
}

t.test('every /apis/v2 route declares the roles of the contract and enforces them', async t => {
  const { app, routes } = await appWithRoutes()
  t.teardown(() => app.close())
  const apiRoutes = routes.filter(r => r.url === API || r.url.startsWith(API + '/'))

  // The collector really saw the app's routes (a broken collector must not pass vacuously).
  for (const [method, url] of [['POST', `${API}/login`], ['GET', `${API}/accounts`], ['PUT', `${API}/accounts/account-:accountId/password`],
    ['PUT', `${API}/system/network`], ['GET', `${API}/system/metric/snapshot`], ['GET', `${API}/streams`]]) {
    t.ok(apiRoutes.some(r => r.method === method && r.url === url), `collected ${method} ${url}`)
  }

  for (const route of apiRoutes) {
    const label = `${route.method} ${route.url}`
    const expected = expectedRoles(route.method, route.url)
    if (expected === undefined) {
      t.fail(`${label}: the roles table has no rule for this route; add one from kraken-api.md section 2`)
      continue
    }
    if (expected === 'open') {
      t.equal(route.roles, undefined, `${label}: open, no roles`)
      continue
    }
    t.same([...(route.roles ?? ALL)].sort(), [...expected].sort(), `${label}: config.roles matches the contract`)

    for (const role of ALL) {
      await app.kraken.reset()
      await seedAdministration(app)
      // Sessions made directly: a login per call would hash a password each time.
      const session = app.kraken.sessions.create(USERS[role], role)
      const url = concreteUrl(app, route.url, role)
      const res = await app.inject({
        method: route.method as 'GET',
        url,
        headers: { cookie: `id=${session.id}`, ...(route.hasBody ? { 'content-type': 'application/json' } : {}) },
        ...(route.hasBody ? { payload: '{}' } : {})
      })
      if (expected.includes(role)) {
        // 404 too would mean the path ids did not resolve, and the call proved nothing.
        t.notOk([401, 403, 404].includes(res.statusCode), `${label} as ${role}: allowed (${res.statusCode} ${res.body.slice(0, 120)})`)
      } else {
        t.equal(res.statusCode, 403, `${label} as ${role}: forbidden`)
        if (route.method !== 'HEAD') t.match(res.json(), { error: { type: 'SessionAuthorization', message: String, details: [] } }, `${label} as ${role}: the envelope`)
      }
    }

    const anonymous = await app.inject({ method: route.method as 'GET', url: concreteUrl(app, route.url, 'Administrator') })
    t.equal(anonymous.statusCode, 401, `${label} without a session`)
  }
})
