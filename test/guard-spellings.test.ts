// No spelling of a path reaches a handler its guard would refuse (issue 10). Guards decide on the
// route that matched, so every percent-encoding, double encoding, dot segment, case change,
// backslash, `;` parameter or encoded slash either reaches the same route (and the same guard) or
// no route at all. Checked in process (app.inject) and over a real HTTPS port with raw bytes,
// because the injector normalizes dot segments and backslashes before the server sees them.
import t from 'tap'
import fc from 'fast-check'
import type { KrakenApp } from '../src/app.ts'
import { ManualClock } from '../src/kernel/clock.ts'
import { makeApp, login, call, PASSWORD } from './helpers/app.ts'
import { startHttps } from './helpers/https.ts'
import { rawRequest } from './helpers/raw.ts'
import { accessOf, concrete, documentedOperations, type Operation } from './helpers/documented-routes.ts'
import { spellingsOf } from './helpers/path-spellings.ts'
import { fuzzSeed, isCi } from './helpers/fuzz-options.ts'

const ci = isCi()
const INJECT_RUNS = ci ? 4000 : 1200
const RAW_RUNS = ci ? 800 : 240

/** A body that the route would accept from a signed-in Administrator: a bypass would succeed, not 400. */
function bodyFor (app: KrakenApp, op: Operation, n: number): unknown {
  if (op.method !== 'POST' && op.method !== 'PUT') return undefined
  const first = (collection: string) => String(app.kraken.store.list(collection)[0]?.[app.kraken.registry.idField(collection)] ?? 'x')
  const p = op.path
  if (/\/(start|stop|reset|reboot)$/.test(p)) return undefined
  if (p.endsWith('/password')) return { current_password: PASSWORD, new_password: `Intruder!Passw0rd-${n}` }
  if (op.method === 'PUT') return {}
  const bodies: Record<string, unknown> = {
    '/apis/v2/accounts': { name: `intruder${n}`, role: 'Administrator', state: 'Active', password: `Intruder!Passw0rd-${n}` },
    '/apis/v2/inputs': { name: `intruder in ${n}`, protocol: 'ts_udp', url: `udp://239.77.1.1:${20000 + n}` },
    '/apis/v2/outputs': { name: `intruder out ${n}`, protocol: 'ts_udp', url: `udp://239.78.1.1:${20000 + n}` },
    '/apis/v2/transcoders': { name: `intruder tc ${n}`, video_bitrate: 1500, width: 1280, height: 720 },
    '/apis/v2/metadata': { name: `intruder md ${n}`, input_method: 'video_source', data_format: 'klv' },
    '/apis/v2/metadata/metadata-{metadataId}/relays': { address: '10.20.30.40', port: 10000 + n },
    '/apis/v2/streams': { name: `intruder stream ${n}`, mode: 'transcoder', input: first('inputs'), transcoder: first('transcoders'), outputs: [] }
  }
  return bodies[p] ?? {}
}

interface Case { op: Operation, url: string, body: unknown }

async function guardedCases (app: KrakenApp): Promise<fc.Arbitrary<Case>> {
  const ops = (await documentedOperations(app)).filter(op => accessOf(app, op) === 'session')
  return fc.constantFrom(...ops).chain(op => {
    const url = concrete(app, op.path)
    return fc.tuple(spellingsOf(url), fc.boolean(), fc.nat(9999))
      .map(([spelled, full, n]) => ({ op, url: spelled + (full && op.method === 'GET' ? '?full=true' : ''), body: bodyFor(app, op, n) }))
  })
}

function stateOf (app: KrakenApp): string {
  return JSON.stringify(app.kraken.store.snapshot())
}

t.test('sanity: the bodies and ids used below are accepted with a session, so a bypass would show', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const admin = await login(app)
  let accepted = 0
  let n = 0
  for (const op of (await documentedOperations(app)).filter(op => accessOf(app, op) === 'session')) {
    if (/\/(reboot|password)$/.test(op.path) || op.method === 'DELETE') continue
    const res = await call(app, admin, op.method as 'GET', concrete(app, op.path), bodyFor(app, op, n++))
    if (res.statusCode < 300) accepted++
    t.ok(res.statusCode < 500 && res.statusCode !== 401, `${op.method} ${op.path} with a session -> ${res.statusCode}`)
  }
  t.ok(accepted >= 35, `${accepted} operations succeed with a session`)
  const created = await call(app, admin, 'POST', '/apis/v2/accounts', bodyFor(app, { method: 'POST', path: '/apis/v2/accounts' }, 1))
  t.equal(created.statusCode, 201, 'the account body of the bypass report is valid')
})

t.test('in process: no spelling of a guarded route answers 2xx or 5xx without a session, and none changes anything', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const before = stateOf(app)
  const statuses = new Map<number, number>()
  const seed = fuzzSeed()
  t.comment(`fast-check seed ${seed} (replay with KRAKEN_FUZZ_SEED=${seed})`)
  await fc.assert(fc.asyncProperty(await guardedCases(app), async ({ op, url, body }) => {
    const res = await call(app, undefined, op.method as 'GET', url, body)
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (![400, 401, 404].includes(res.statusCode)) throw new Error(`${op.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`)
    if (String(res.headers['set-cookie'] ?? '').includes('id=')) throw new Error(`${op.method} ${url} issued a session cookie`)
    if (res.json<{ error?: unknown }>().error === undefined) throw new Error(`${op.method} ${url}: no error envelope`)
  }), { numRuns: INJECT_RUNS, seed })
  t.ok([...statuses.values()].reduce((a, b) => a + b, 0) >= 1000, `${INJECT_RUNS} requests: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get(401) ?? 0) > INJECT_RUNS / 4, 'most spellings reach the API and are refused by the guard')
  t.equal(stateOf(app), before, 'the store is unchanged')
})

t.test('over HTTPS, byte for byte: no spelling answers 2xx or 5xx without a session', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const app = emu.app
  const before = stateOf(app)
  const statuses = new Map<number, number>()
  const seed = fuzzSeed()
  t.comment(`fast-check seed ${seed} (replay with KRAKEN_FUZZ_SEED=${seed})`)
  await fc.assert(fc.asyncProperty(await guardedCases(app), async ({ op, url, body }) => {
    const payload = body === undefined ? '' : JSON.stringify(body)
    const head = [`${op.method} ${url} HTTP/1.1`, 'Host: localhost']
    if (payload !== '') head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`)
    const res = await rawRequest(emu, head, payload)
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    if (![400, 401, 404].includes(res.status)) throw new Error(`${op.method} ${url} -> ${res.status} ${res.body.slice(0, 200)}`)
    if (/^set-cookie: id=/im.test(res.head)) throw new Error(`${op.method} ${url} issued a session cookie`)
  }), { numRuns: RAW_RUNS, seed })
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get(401) ?? 0) > RAW_RUNS / 4, 'most spellings reach the API and are refused by the guard')
  t.equal(stateOf(app), before, 'the store is unchanged')
})

t.test('the control guard: no spelling of a control route works without the token or from another origin', async t => {
  // Off loopback the control routes need the (generated) token.
  const app = await makeApp({ host: '0.0.0.0' })
  t.teardown(() => app.close())
  const token = app.kraken.control.token
  t.type(token, 'string', 'a token was generated for a non-loopback listener')
  const admin = await login(app)
  const before = stateOf(app)
  const controlOps = (await documentedOperations(app)).filter(op => accessOf(app, op) === 'control')
  t.ok(controlOps.length >= 1, `${controlOps.length} control routes documented`)
  const seed = fuzzSeed()
  t.comment(`fast-check seed ${seed}`)
  const foreign = fc.constantFrom<Record<string, string>>(
    {},
    { 'x-kraken-control-token': 'not-the-token' },
    { 'x-kraken-control-token': `${String(token)}x` },
    { 'x-kraken-control-token': String(token), origin: 'https://evil.example' },
    { 'x-kraken-control-token': String(token), origin: 'null' },
    { 'x-kraken-control-token': String(token), 'sec-fetch-site': 'cross-site' },
    { origin: 'https://localhost:80' }
  )
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(fc.constantFrom(...controlOps), fc.oneof(fc.constant(undefined), fc.string()), foreign, fc.boolean(),
    async (op, spelledSeed, headers, spell) => {
      const url = spell ? fc.sample(spellingsOf(op.path), { numRuns: 1, seed: (spelledSeed ?? '').length + seed })[0]! : op.path
      const res = await app.inject({ method: op.method as 'POST', url, headers: { host: 'localhost', ...headers } })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (![400, 401, 403, 404].includes(res.statusCode)) throw new Error(`${op.method} ${url} ${JSON.stringify(headers)} -> ${res.statusCode} ${res.body}`)
    }), { numRuns: ci ? 1000 : 300, seed })
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get(401) ?? 0) > 0 && (statuses.get(403) ?? 0) > 0, 'both the token and the origin rule refused requests')
  t.equal(stateOf(app), before, 'nothing was reset')
  t.equal((await call(app, admin, 'GET', '/apis/v2/session')).statusCode, 200, 'the session a reset would end is alive')
})

t.test('the reboot gate: during a reboot no spelling of a device route reaches its handler', async t => {
  const clock = new ManualClock()
  const app = await makeApp({ rebootMs: 60_000 }, { clock })
  t.teardown(() => app.close())
  const admin = await login(app)
  t.equal((await call(app, admin, 'POST', '/apis/v2/system/reboot')).statusCode, 204, 'reboot accepted')
  const before = stateOf(app)
  const ops = (await documentedOperations(app)).filter(op => op.path.startsWith('/apis/v2/'))
  const seed = fuzzSeed()
  t.comment(`fast-check seed ${seed}`)
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...ops).chain(op => fc.tuple(fc.constant(op), spellingsOf(concrete(app, op.path)), fc.nat(9999))),
    async ([op, url, n]) => {
      const res = await call(app, admin, op.method as 'GET', url, bodyFor(app, op, n))
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (![400, 404, 503].includes(res.statusCode)) throw new Error(`${op.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`)
      if (res.statusCode === 503 && res.headers['retry-after'] === undefined) throw new Error(`${url}: 503 without Retry-After`)
    }), { numRuns: ci ? 1500 : 400, seed })
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok((statuses.get(503) ?? 0) > 0, 'the gate answered 503')
  t.equal(stateOf(app), before, 'nothing changed during the reboot')
})

t.test('the live page\'s event stream: no spelling of /ui/events opens it without a session', async t => {
  // Not in /apidoc (the page's routes are not API operations), so not among the cases above.
  const app = await makeApp()
  t.teardown(() => app.close())
  const seed = fuzzSeed()
  t.comment(`fast-check seed ${seed} (replay with KRAKEN_FUZZ_SEED=${seed})`)
  let refused = 0
  await fc.assert(fc.asyncProperty(spellingsOf('/ui/events'), async url => {
    const res = await call(app, undefined, 'GET', url)
    const type = String(res.headers['content-type'] ?? '')
    if (type.includes('event-stream')) throw new Error(`GET ${url} opened the event stream without a session`)
    // A dot segment may land on the page itself (/ui), which is open and carries no data.
    if (res.statusCode === 200 && type.startsWith('text/html')) return
    if (![400, 401, 404].includes(res.statusCode)) throw new Error(`GET ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`)
    if (res.statusCode === 401) refused++
  }), { numRuns: ci ? 400 : 100, seed })
  t.ok(refused > 0, `${refused} spellings reached the route and were refused by the guard`)
})
