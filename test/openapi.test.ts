// /apidoc/json is a valid OpenAPI 3 document that misses no route (issue 3, acceptance 5).
import t from 'tap'
import SwaggerParser from '@apidevtools/swagger-parser'
import { resources } from '../src/resources/index.ts'
import { collectionRoute, itemRoute } from '../src/kernel/define-resource.ts'
import { makeApp } from './helpers/app.ts'

interface Operation { tags?: string[], operationId?: string, summary?: string, security?: unknown[], responses?: Record<string, unknown> }
interface Document { openapi: string, paths: Record<string, Record<string, Operation>>, tags?: Array<{ name: string }> }

const OPEN = new Set(['/apis/v2/login', '/apis/v2/logout'])
/** Only Swagger UI's own routes, the /docs redirect and the live page (issue 17: a page, not an API) are left out of the document. */
const excluded = (url: string) => url === '/apidoc' || url.startsWith('/apidoc/') || url === '/docs' ||
  url === '/' || url === '/ui' || url.startsWith('/ui/')
const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

t.test('/apidoc/json is a valid OpenAPI 3 document', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/apidoc/json' })
  t.equal(res.statusCode, 200, 'served without a session')
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const doc = res.json() as Document
  t.match(doc.openapi, /^3\./)
  // validate() dereferences in place: give it a copy.
  await t.resolves(SwaggerParser.validate(structuredClone(doc) as unknown as Parameters<typeof SwaggerParser.validate>[0]), 'swagger-parser validates it')
  t.equal((await app.inject({ method: 'GET', url: '/apidoc/yaml' })).statusCode, 200, 'YAML too')
})

t.test('every registered route is in the document with a tag and an operationId', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const doc = (await app.inject({ method: 'GET', url: '/apidoc/json' })).json() as Document
  const routes = app.kraken.routes.routes.filter(r => r.method !== 'HEAD' && !excluded(r.url))
  t.ok(routes.length >= 40, `${routes.length} routes to check`)
  const operationIds = new Map<string, string>()
  for (const route of routes) {
    const where = `${route.method} ${route.url}`
    const op = doc.paths[openapiPath(route.url)]?.[route.method.toLowerCase()]
    if (op === undefined) {
      t.fail(`${where} is missing from /apidoc/json`)
      continue
    }
    t.ok((op.tags?.length ?? 0) > 0, `${where} has a tag`)
    t.match(op.operationId, /^[A-Za-z][A-Za-z0-9]+$/, `${where} has an operationId`)
    t.ok(typeof op.summary === 'string' && op.summary.length > 0, `${where} has a summary`)
    const seen = operationIds.get(op.operationId ?? '')
    t.equal(seen, undefined, `${where}: operationId ${op.operationId} is unique${seen === undefined ? '' : ` (also ${seen})`}`)
    operationIds.set(op.operationId ?? '', where)
    const guarded = route.url.startsWith('/apis/v2/') && !OPEN.has(route.url)
    if (guarded) {
      t.same(op.security, [{ session: [] }], `${where} declares the session cookie`)
      t.ok(op.responses?.['401'] !== undefined, `${where} documents its 401`)
    }
    const errors = Object.keys(op.responses ?? {}).filter(code => Number(code) >= 400)
    t.ok(errors.length > 0, `${where} documents its errors`)
  }
  // And the reverse: nothing in the document that the server does not route.
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      t.ok(routes.some(r => openapiPath(r.url) === p && r.method.toLowerCase() === method), `${method.toUpperCase()} ${p} is a real route`)
    }
  }
})

t.test('every resource has its operations under its tag', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const doc = (await app.inject({ method: 'GET', url: '/apidoc/json' })).json() as Document
  const methods = { list: ['collection', 'get'], create: ['collection', 'post'], get: ['item', 'get'], update: ['item', 'put'], delete: ['item', 'delete'] } as const
  for (const r of resources) {
    for (const operation of r.spec.operations ?? (['list', 'create', 'get', 'update', 'delete'] as const)) {
      const [kind, method] = methods[operation]
      const url = openapiPath(kind === 'collection' ? collectionRoute(r) : itemRoute(r))
      const op = doc.paths[url]?.[method]
      t.ok(op?.tags?.includes(r.tag), `${r.collection} ${operation}: ${method.toUpperCase()} ${url} tagged ${r.tag}`)
      const ok = operation === 'create' ? '201' : operation === 'delete' ? '204' : '200'
      t.ok(op?.responses?.[ok] !== undefined, `${r.collection} ${operation}: documents ${ok}`)
    }
  }
  t.match(JSON.stringify(doc), /ErrorEnvelope/, 'errors point at the one envelope schema')
})
