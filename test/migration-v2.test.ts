// Migration to format 2 (issue 20): security-set countries that are no ISO 3166-1 alpha-3 code,
// which format 1 accepted, are dropped when a format-1 data file opens.
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildApp } from '../src/app.ts'
import type { Db, Item } from '../src/kernel/store.ts'
import { call, login } from './helpers/app.ts'
import { tempDir } from './helpers/cli.ts'

const FORMAT_1 = fileURLToPath(new URL('./fixtures/data-files/kraken-format-1.json', import.meta.url))

t.test('a format-1 file with a made-up country code opens with the code dropped, the rest kept', async t => {
  const db = JSON.parse(await readFile(FORMAT_1, 'utf8')) as Db
  const [first, second] = db.collections.metadata as [Item, Item]
  const bad: Item = { ...first, security_set: { enabled: true, classification: 'Secret', classifying_country: 'XXX', object_countries: ['CAN', 'ZZZ', 'USA'] } }
  const good: Item = { ...second, security_set: { enabled: true, classification: 'Secret', classifying_country: 'GBR', object_countries: ['GBR'] } }
  db.collections.metadata = [bad, good, ...(db.collections.metadata ?? []).slice(2)]
  const dir = await tempDir(t)
  const data = path.join(dir, 'kraken.json')
  await writeFile(data, JSON.stringify(db))

  const app = await buildApp({ data, logLevel: 'silent', transitionMs: 0, rebootMs: 0 })
  t.teardown(() => app.close())
  const cookie = await login(app)
  const read = async (uuid: unknown) => (await call(app, cookie, 'GET', `/apis/v2/metadata/metadata-${String(uuid)}`)).json() as { security_set: unknown }
  t.same((await read(bad.uuid)).security_set, { enabled: false, classification: 'Secret', classifying_country: '', object_countries: ['CAN', 'USA'] },
    'the unknown codes are dropped; without a classifying country the set is off')
  t.same((await read(good.uuid)).security_set, good.security_set, 'valid codes are untouched')
  // And the source can be sent back as it is now (no stored value fails the check).
  const got = await call(app, cookie, 'GET', `/apis/v2/metadata/metadata-${String(bad.uuid)}`)
  app.kraken.runtime.stopAll()
  t.equal((await call(app, cookie, 'PUT', `/apis/v2/metadata/metadata-${String(bad.uuid)}`, got.json())).statusCode, 200)
})
