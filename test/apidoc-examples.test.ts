// /apidoc's "Try it out" starts from each operation's example: every operation that takes a body
// documents a realistic one, and each succeeds as sent on the default device (issue 20).
import t from 'tap'
import * as x509 from '@peculiar/x509'
import { webcrypto } from 'node:crypto'
import { call, login, makeApp } from './helpers/app.ts'
import { concrete } from './helpers/documented-routes.ts'
import type { KrakenApp } from '../src/app.ts'
import { PARENT_KEY } from '../src/kernel/define-resource.ts'
import { EXAMPLE_FIRMWARE_BASE64 } from '../src/system/firmware-example.ts'
import { VERIFY_MS } from '../src/system/firmware-routes.ts'

interface Media { example?: unknown, examples?: Record<string, { value: unknown }> }
interface Parameter { in: string, name: string, example?: unknown }
interface Doc { paths: Record<string, Record<string, { parameters?: Parameter[], requestBody?: { content?: Record<string, Media> } }>> }

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const app = await makeApp({ fixture: 'default' })
const doc = (await app.inject({ method: 'GET', url: '/apidoc/json' })).json() as Doc
await app.close()

const withBody = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops)
  .filter(([, op]) => op.requestBody !== undefined)
  .map(([method, op]) => ({
    method: method.toUpperCase() as 'POST' | 'PUT',
    path,
    media: op.requestBody?.content?.['application/json'],
    // What "Try it out" fills a path parameter with: its documented example.
    pathExamples: Object.fromEntries((op.parameters ?? []).filter(p => p.in === 'path' && typeof p.example === 'string').map(p => [p.name, p.example as string]))
  })))

t.ok(withBody.length >= 20, `${withBody.length} operations take a body`)

type Names = Record<string, string>
const API = '/apis/v2'

/**
 * What must exist before an operation's example can work, made on its fresh device the way a
 * user would make it first: the default device has no presets, no CSRs and no firmware package, so
 * renaming or duplicating the example preset, uploading the certificate of the example CSR, or
 * applying a package, needs them.
 * Each makes the object its path's documented example names.
 */
const prerequisites: Record<string, (app: KrakenApp, cookie: string, names: Names) => Promise<void>> = {
  [`${API}/presets/preset-{name}/rename`]: savePreset,
  [`${API}/presets/preset-{name}/duplicate`]: savePreset,
  [`${API}/certificates/certificate-{name}/certificate`]: async (app, cookie, names) => {
    await expectOk(call(app, cookie, 'POST', `${API}/certificates`, { name: names.name, type: 'csr', subject: { O: 'Example Lab', CN: 'kraken-lab.example' } }), `the CSR ${names.name}`)
  },
  // A package to apply: the upload's own example, verified (the device shows it verifying for a while first).
  [`${API}/system/firmware/apply`]: async (app, cookie) => {
    await expectOk(call(app, cookie, 'POST', `${API}/system/firmware`, { package: EXAMPLE_FIRMWARE_BASE64 }), 'the example firmware package')
    app.kraken.deviceClock?.advance(VERIFY_MS)
  }
}

async function savePreset (app: KrakenApp, cookie: string, names: Names): Promise<void> {
  await expectOk(call(app, cookie, 'PUT', `${API}/presets/preset-${encodeURIComponent(names.name ?? '')}`), `the preset ${names.name}`)
}

async function expectOk (pending: ReturnType<typeof call>, what: string): Promise<void> {
  const res = await pending
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`preparing ${what}: ${res.statusCode} ${res.body.slice(0, 300)}`)
}

/**
 * The one operation whose documented example cannot succeed as sent, and why: the signed
 * certificate of a CSR must carry the key the device generated for that CSR a moment ago, which no
 * example written in advance can. The test checks that its example is a PEM certificate refused
 * for that reason only, then sends what a user would: the CSR signed by a CA (a test CA here).
 */
const BUILDS_ITS_BODY = `${API}/certificates/certificate-{name}/certificate`

async function signedByTestCa (app: KrakenApp, cookie: string, url: string): Promise<{ certificate: string }> {
  const csrRes = await call(app, cookie, 'GET', `${url.replace(/\/certificate$/, '')}/csr`)
  if (csrRes.statusCode !== 200) throw new Error(`downloading the CSR: ${csrRes.statusCode} ${csrRes.body.slice(0, 300)}`)
  const csr = new x509.Pkcs10CertificateRequest(csrRes.body)
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const ca = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const now = app.kraken.clock.now()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0b02', subject: csr.subject, issuer: 'CN=Example Test CA', publicKey: csr.publicKey, signingKey: ca.privateKey,
    notBefore: new Date(now - 86400_000), notAfter: new Date(now + 365 * 86400_000), signingAlgorithm: alg,
    extensions: csr.extensions // the SANs asked for, as a CA copies them
  })
  return { certificate: cert.toString('pem') }
}

t.test('every prerequisite belongs to a documented operation that takes a body', async t => {
  const paths = new Set(withBody.map(o => o.path))
  for (const path of new Set([...Object.keys(prerequisites), BUILDS_ITS_BODY])) t.ok(paths.has(path), path)
})

/** The path with real ids: the deepest item first (a relay), then the parents it lives under. */
function fill (app: KrakenApp, path: string, names: Names): string {
  if (Object.keys(names).length > 0) path = path.replace(/\{(\w+)\}/g, (m, name: string) => names[name] === undefined ? m : encodeURIComponent(names[name]))
  const { registry, store } = app.kraken
  const params = [...path.matchAll(/\{(\w+)\}/g)].map(m => m[1]!)
  const deepest = registry.resources.find(r => r.paramName === params.at(-1))
  if (deepest?.parent === undefined) return concrete(app, path)
  const ids: Record<string, string> = {}
  let item = store.list(deepest.collection)[0]
  for (let r: typeof deepest | undefined = deepest; r !== undefined && item !== undefined; r = r.parent) {
    ids[r.paramName] = String(item[r.idField])
    const parentId = item[PARENT_KEY]
    item = r.parent === undefined ? undefined : store.get(r.parent.collection, String(parentId))
  }
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(ids[name] ?? ''))
}

for (const { method, path, media, pathExamples } of withBody) {
  t.test(`${method} ${path}: its example works as sent`, async t => {
    const example = media?.example ?? Object.values(media?.examples ?? {})[0]?.value
    t.ok(example !== undefined && typeof example === 'object', 'documents an example body')
    if (example === undefined) return
    t.notMatch(JSON.stringify(example), /"string"/, 'not a placeholder')
    // A fresh default device per operation: what one example changes (a password, a reset that
    // ends every session) cannot spoil the next. Its auto-start streams are stopped so that the
    // objects they use may be changed.
    const app = await makeApp({ fixture: 'default' })
    t.teardown(() => app.close())
    await app.ready()
    app.kraken.runtime.stopAll()
    const cookie = path === '/apis/v2/login' ? undefined : await login(app)
    const url = fill(app, path, pathExamples)
    if (cookie !== undefined) await prerequisites[path]?.(app, cookie, pathExamples)
    let body: unknown = example
    if (path === BUILDS_ITS_BODY && cookie !== undefined) {
      const asSent = await call(app, cookie, method, url, example)
      t.equal(asSent.statusCode, 400, 'sent as is, the example is refused...')
      t.match(asSent.body, /does not match the key of CSR/, '...only because no certificate written in advance can carry this CSR\'s key')
      body = await signedByTestCa(app, cookie, url)
    }
    const res = await call(app, cookie, method, url, body)
    t.ok(res.statusCode >= 200 && res.statusCode < 300, `${res.statusCode} ${res.body.slice(0, 300)}`)
  })
}
