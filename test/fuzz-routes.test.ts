// Bad input against every hand-written write route (login, logout, account password, system
// settings, stream actions, reboot, the emulator's reset): whatever /apidoc/json documents that
// is not a resource's create/update/delete.
import t from 'tap'
import { collectionRoute, itemRoute } from '../src/kernel/define-resource.ts'
import { makeApp } from './helpers/app.ts'
import { FuzzHarness, fuzzEndpoint } from './helpers/fuzz-harness.ts'
import { writeEndpoints } from './helpers/fuzz-endpoints.ts'
import { fuzzRuns, fuzzSeed, replayLine, statusLine } from './helpers/fuzz-options.ts'
import { seedAdministration } from './helpers/admin-seed.ts'

const FIXTURE = 'default'
// 1,000 cases per endpoint in CI (some of them scrypt logins) outlast the default per-file timeout.
t.setTimeout(900_000)
// Printed by every run, passing or not: a failure can always be replayed with the same cases.
t.comment(replayLine('test/fuzz-routes.test.ts'))
console.error(replayLine('test/fuzz-routes.test.ts'))

t.test('every hand-written write route survives hostile requests', async t => {
  const app = await makeApp({ fixture: FIXTURE })
  t.teardown(() => app.close())
  // The fixture has no preset or certificate to aim the administration routes at: every restore adds them.
  app.kraken.onReset.push(() => seedAdministration(app))
  await seedAdministration(app)
  const harness = new FuzzHarness(app, FIXTURE)
  const crud = new Set(app.kraken.registry.resources.flatMap(r => [collectionRoute(r), itemRoute(r)].map(p => p.replace(/:(\w+)/g, '{$1}'))))
  const endpoints = (await writeEndpoints(app)).filter(e => !crud.has(e.path))
  // A snapshot to aim /_emulator/snapshots/{name}/... at: discovery reads the names GET lists.
  t.equal((await app.inject({ method: 'POST', url: '/_emulator/snapshots', payload: { name: 'fuzz' } })).statusCode, 201)
  // And a fault for /_emulator/faults/{faultId} (aimed at a path no case requests).
  t.equal((await app.inject({ method: 'POST', url: '/_emulator/faults', payload: { match: { path: '/apis/v2/not-fuzzed' }, action: { type: 'error', status: 503 } } })).statusCode, 201)
  await harness.discover(endpoints)
  t.ok(endpoints.some(e => e.path === '/apis/v2/login'), 'login is among them')
  for (const endpoint of endpoints) {
    await t.test(`${endpoint.method} ${endpoint.path}`, async t => {
      await harness.restore()
      if (endpoint.params.length > 0) {
        t.ok(harness.paramTuples(endpoint).length > 0, `something to aim ${endpoint.path} at`)
      }
      const result = await fuzzEndpoint(harness, endpoint, fuzzRuns(), fuzzSeed())
      t.equal(result.cases, fuzzRuns(), `${statusLine(result)} (seed ${fuzzSeed()})`)
    })
  }
})
