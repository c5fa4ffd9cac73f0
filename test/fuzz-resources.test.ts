// Bad input against every resource's create/update/delete (kraken-api.md sections 3-5), derived
// from the registry through /apidoc/json, so a new resource is fuzzed without editing this file.
import t from 'tap'
import { collectionRoute, itemRoute } from '../src/kernel/define-resource.ts'
import { makeApp } from './helpers/app.ts'
import { FuzzHarness, fuzzEndpoint } from './helpers/fuzz-harness.ts'
import { writeEndpoints } from './helpers/fuzz-endpoints.ts'
import { fuzzRuns, fuzzSeed, replayLine, statusLine } from './helpers/fuzz-options.ts'

const FIXTURE = 'default'
// 1,000 cases per endpoint in CI (some of them scrypt logins) outlast the default per-file timeout.
t.setTimeout(900_000)
// Printed by every run, passing or not: a failure can always be replayed with the same cases.
t.comment(replayLine('test/fuzz-resources.test.ts'))
console.error(replayLine('test/fuzz-resources.test.ts'))

t.test('every resource write endpoint survives hostile requests', async t => {
  const app = await makeApp({ fixture: FIXTURE })
  t.teardown(() => app.close())
  const harness = new FuzzHarness(app, FIXTURE)
  const crud = new Set(app.kraken.registry.resources.flatMap(r => [collectionRoute(r), itemRoute(r)].map(openApiPath)))
  const endpoints = (await writeEndpoints(app)).filter(e => crud.has(e.path))
  await harness.discover(endpoints)
  // Guards against a fuzz that silently covers nothing: every resource has its write routes.
  t.ok(endpoints.length >= app.kraken.registry.resources.length, `${endpoints.length} resource write endpoints found`)
  for (const endpoint of endpoints) {
    await t.test(`${endpoint.method} ${endpoint.path}`, async t => {
      await harness.restore()
      if (endpoint.params.length > 0) {
        t.ok(harness.paramTuples(endpoint).length > 0, `the ${FIXTURE} fixture has an item to aim ${endpoint.path} at`)
      }
      const result = await fuzzEndpoint(harness, endpoint, fuzzRuns(), fuzzSeed())
      t.equal(result.cases, fuzzRuns(), `${statusLine(result)} (seed ${fuzzSeed()})`)
    })
  }
})

/** `/apis/v2/streams/stream-:streamId` -> `/apis/v2/streams/stream-{streamId}` */
function openApiPath (route: string): string {
  return route.replace(/:(\w+)/g, '{$1}')
}
