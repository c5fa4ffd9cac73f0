// /apidoc's "Try it out" starts from each operation's example: every operation that takes a body
// documents a realistic one, and each succeeds as sent on the default device (issue 20).
import t from 'tap'
import { call, login, makeApp } from './helpers/app.ts'
import { concrete } from './helpers/documented-routes.ts'
import type { KrakenApp } from '../src/app.ts'
import { PARENT_KEY } from '../src/kernel/define-resource.ts'

interface Media { example?: unknown, examples?: Record<string, { value: unknown }> }
interface Doc { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, Media> } }>> }

const app = await makeApp({ fixture: 'default' })
const doc = (await app.inject({ method: 'GET', url: '/apidoc/json' })).json() as Doc
await app.close()

const withBody = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops)
  .filter(([, op]) => op.requestBody !== undefined)
  .map(([method, op]) => ({ method: method.toUpperCase() as 'POST' | 'PUT', path, media: op.requestBody?.content?.['application/json'] })))

t.ok(withBody.length >= 20, `${withBody.length} operations take a body`)

/** The path with real ids: the deepest item first (a relay), then the parents it lives under. */
function fill (app: KrakenApp, path: string): string {
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

for (const { method, path, media } of withBody) {
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
    const res = await call(app, cookie, method, fill(app, path), example)
    t.ok(res.statusCode >= 200 && res.statusCode < 300, `${res.statusCode} ${res.body.slice(0, 300)}`)
  })
}
