// Preloaded (after source-package.ts) when test/fixture-api.test.ts runs examples/jest.example.mjs:
// does what Jest does around a test file, with the documented global setup and teardown as they
// are. Two "workers" are started, and this process plays worker 2.
import { after } from 'node:test'

type Hook = (globalConfig: { maxWorkers: number }) => Promise<void>
const load = async (file: string): Promise<Hook> =>
  (await import(new URL(`../../examples/${file}`, import.meta.url).href) as { default: Hook }).default

const setup = await load('jest.global-setup.example.mjs')
const teardown = await load('jest.global-teardown.example.mjs')
await setup({ maxWorkers: 2 })
process.env.JEST_WORKER_ID = '2'
after(() => teardown({ maxWorkers: 2 }))
