// The data file's format version and its migrations (issue 11): a file written by an older
// release opens, migrated forward and written back with the original kept beside it; a file of a
// newer release stops the start with status 2 and one line, untouched.
import { chmod, copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildApp } from '../src/app.ts'
import { FixtureError, loadFixture } from '../src/fixtures.ts'
import { journalPath } from '../src/kernel/journal.ts'
import { formatOf, migrateDb, openStore, StoreLoadError, versionOf, type Db, type Item, type Migration, type Op, type Store } from '../src/kernel/store.ts'
import { CURRENT_FORMAT, MIGRATIONS } from '../src/migrations/index.ts'
import { resources } from '../src/resources/index.ts'
import { call, login } from './helpers/app.ts'
import { runCli, tempDir } from './helpers/cli.ts'

const DATA_FILES = fileURLToPath(new URL('./fixtures/data-files/', import.meta.url))
const CURRENT = versionOf(CURRENT_FORMAT)!
const NEWER = formatOf(CURRENT + 1)

/** kraken-format-<N>.json: a data file as the release of format N wrote it (scripts/data-file-fixture.ts). */
async function dataFiles (): Promise<Array<{ name: string, version: number }>> {
  const names = (await readdir(DATA_FILES)).filter(f => /^kraken-format-\d+\.json$/.test(f)).sort()
  return names.map(name => ({ name, version: Number(/\d+/.exec(name)![0]) }))
}

t.test('the format history is consistent', async t => {
  t.equal(CURRENT_FORMAT, formatOf(MIGRATIONS.length + 1), 'the current format follows the migrations')
  const files = await dataFiles()
  // A new current version needs its file (npx tsx scripts/data-file-fixture.ts): the next change opens it.
  t.same(files.map(f => f.version), Array.from({ length: CURRENT }, (_, i) => i + 1), 'a committed data file of every version up to the current one')
})

t.test('a data file of every earlier version opens with this release, and one of today\'s format too', async t => {
  for (const { name, version } of await dataFiles()) {
    t.test(name, async t => {
      const dir = await tempDir(t)
      const data = path.join(dir, 'kraken.json')
      await copyFile(path.join(DATA_FILES, name), data)
      const original = await readFile(data)
      const stored = JSON.parse(original.toString('utf8')) as Db
      t.equal(stored.format, formatOf(version), `${name} is of format ${version}`)

      const app = await buildApp({ data, logLevel: 'silent', transitionMs: 0, rebootMs: 0 })
      const cookie = await login(app)
      // Every item of the file answers through the API (what a migration changes inside an item
      // is its own test's business; that nothing is lost is this one's).
      for (const r of resources.filter(x => x.parent === undefined)) {
        const res = await call(app, cookie, 'GET', `/apis/v2/${r.plural}?full=true`)
        t.equal(res.statusCode, 200, `GET ${r.plural}`)
        // A collection the file did not hold may be made by a migration (archive locations, format 3).
        if (stored.collections[r.collection] === undefined && version < CURRENT) continue
        const listed = (res.json() as Record<string, Item[]>)[`${r.singular}_list`]!.map(item => item[r.idField])
        t.same(listed, (stored.collections[r.collection] ?? []).map(item => item[r.idField]), `${r.plural}: every item of the file, in order`)
      }
      const inputs = (await call(app, cookie, 'GET', '/apis/v2/inputs')).json() as { input_list: Item[] }
      t.ok(inputs.input_list.some(i => i.name === `Written by format ${version}`), `the input created by the release of format ${version} is there`)
      await app.close()

      const after = await readdir(dir)
      const rewritten = JSON.parse(await readFile(data, 'utf8')) as Db
      t.equal(rewritten.format, CURRENT_FORMAT, 'the file is in the current format afterwards')
      if (version < CURRENT) {
        t.same(after.sort(), ['kraken.json', `kraken.json.v${version}.bak`], 'the file and its backup, nothing else')
        t.same(await readFile(path.join(dir, `kraken.json.v${version}.bak`)), original, 'the backup is the original file, byte for byte')
      } else {
        t.same(after, ['kraken.json'], 'nothing to migrate: no backup')
        t.same(await readFile(data), original, 'a file in the current format is not rewritten by opening it')
      }
    })
  }
})

t.test('a data file of a newer version stops the CLI with status 2 and one line, untouched', async t => {
  const dir = await tempDir(t)
  const data = path.join(dir, 'data', 'kraken.json')
  await mkdir(path.dirname(data))
  const doc = JSON.parse(await readFile(path.join(DATA_FILES, 'kraken-format-1.json'), 'utf8')) as Db
  const content = JSON.stringify({ ...doc, format: NEWER }, null, 2)
  await writeFile(data, content)

  const run = await runCli(['--port', '0', '--data', data, '--certs', path.join(dir, 'certs'), '--log-level', 'silent'])
  t.equal(run.code, 2, 'status 2')
  const lines = run.stderr.split('\n').filter(l => l !== '')
  t.equal(lines.length, 1, `one line: ${run.stderr.trim()}`)
  t.equal(lines[0], `kraken-emulator: ${data}: format version ${CURRENT + 1} was written by a newer kraken-emulator; this one reads versions up to ${CURRENT}`, 'names the file, the versions and why')
  t.equal(run.stdout, '', 'never announced ready')
  t.equal(await readFile(data, 'utf8'), content, 'the file is untouched, byte for byte')
  t.same(await readdir(path.dirname(data)), ['kraken.json'], 'nothing written beside it')
})

t.test('fixtures carry the format too', async t => {
  const dir = await tempDir(t)
  const fixture = { description: 'one input', collections: { inputs: [] }, singletons: {} }
  const legacy = path.join(dir, 'legacy.json')
  await writeFile(legacy, JSON.stringify(fixture))
  t.equal(loadFixture(legacy).format, formatOf(1), 'a fixture that names no format is version 1 (fixtures had none before)')
  const app = await buildApp({ inMemory: true, fixture: legacy, logLevel: 'silent' })
  t.equal(app.kraken.store.snapshot().format, CURRENT_FORMAT, 'it seeds a store of the current format')
  await app.close()

  const newer = path.join(dir, 'newer.json')
  await writeFile(newer, JSON.stringify({ ...fixture, format: NEWER }))
  t.throws(() => loadFixture(newer), new FixtureError(`fixture ${newer}: format version ${CURRENT + 1} was written by a newer kraken-emulator; this one reads versions up to ${CURRENT}`))
  const garbled = path.join(dir, 'garbled.json')
  await writeFile(garbled, JSON.stringify({ ...fixture, format: 2 }))
  t.throws(() => loadFixture(garbled), new FixtureError(`fixture ${garbled}: "format" must be "kraken-emulator/<version>" (found 2)`), 'a format that is not "kraken-emulator/<version>" is refused')
})

// The mechanism, on the store itself, with migrations made up for the test: the release has none
// yet, and each real one will have its own test through the committed data files above.
t.test('migrations, on the durable store', async t => {
  const idField = (): string => 'uuid'
  const v1 = (): Db => ({
    format: formatOf(1),
    fixture: 'test',
    collections: { streams: [{ uuid: 's1', label: 'one' }, { uuid: 's2', label: 'two' }] },
    singletons: { systeminfo: { hostname: 'kraken' } }
  })
  const ran: string[] = []
  // v2 renames `label` to `name`; v3 adds `enabled`. Both mutate their argument, which is allowed.
  const toV2: Migration = db => {
    ran.push(`2 from ${db.format}`)
    for (const item of db.collections.streams ?? []) {
      item.name = item.label
      delete item.label
    }
    return db
  }
  const toV3: Migration = db => {
    ran.push(`3 from ${db.format}`)
    return { ...db, collections: { ...db.collections, streams: (db.collections.streams ?? []).map(item => ({ ...item, enabled: true })) } }
  }
  const migrations = [toV2, toV3]
  const checked: string[] = []
  const open = (file: string, history: readonly Migration[] = migrations, check = (db: Db): void => { checked.push(db.format) }): Promise<Store> =>
    openStore({ file, seed: v1, idField, migrations: history, check })
  /** A data file of format 1, written by the store with no migrations (as today's release does). */
  const writeV1 = async (dir: string): Promise<string> => {
    const file = path.join(dir, 'kraken.json')
    await (await openStore({ file, seed: v1, idField })).close()
    return file
  }
  t.beforeEach(() => { ran.length = 0; checked.length = 0 })

  t.test('an older file is migrated in order, checked as migrated, written back, the original kept as .v1.bak', async t => {
    const dir = await tempDir(t)
    const file = await writeV1(dir)
    await chmod(file, 0o644) // as a release before 0600 store files left it
    const original = await readFile(file)
    const store = await open(file)
    t.same(ran, ['2 from kraken-emulator/1', '3 from kraken-emulator/2'], 'each migration once, in order, each given the version before it')
    t.same(checked, ['kraken-emulator/3'], 'the check sees the migrated db')
    t.same(store.list('streams'), [{ uuid: 's1', name: 'one', enabled: true }, { uuid: 's2', name: 'two', enabled: true }], 'the store holds the migrated items')
    t.equal(store.snapshot().format, 'kraken-emulator/3')
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as Db
    t.equal(onDisk.format, 'kraken-emulator/3', 'written back before the store is used')
    t.same(onDisk.collections.streams, store.list('streams'), 'the file holds the migrated items')
    t.same(await readFile(`${file}.v1.bak`), original, 'kraken.json.v1.bak is the original, byte for byte')
    t.equal(((await stat(`${file}.v1.bak`)).mode & 0o777).toString(8), '600', 'and private, like every store file (it holds password hashes)')
    await store.commit([{ op: 'put', collection: 'streams', id: 's3', item: { uuid: 's3', name: 'three', enabled: false } }])
    await store.close()

    ran.length = 0
    const again = await open(file)
    t.same(ran, [], 'a migrated file is not migrated again')
    t.same(again.list('streams').map(s => s.uuid), ['s1', 's2', 's3'], 'writes after the migration are kept')
    await again.close()
    t.same(await readFile(`${file}.v1.bak`), original, 'the backup is left as it was')
    t.same((await readdir(dir)).sort(), ['kraken.json', 'kraken.json.v1.bak'], 'no temp file, journal or lock left')
  })

  t.test('a file of version 2 runs only the later migration; its backup is .v2.bak', async t => {
    const dir = await tempDir(t)
    const file = await writeV1(dir)
    await (await open(file, [toV2])).close()
    ran.length = 0
    const v2 = await readFile(file)
    const store = await open(file)
    t.same(ran, ['3 from kraken-emulator/2'])
    t.same(store.get('streams', 's1'), { uuid: 's1', name: 'one', enabled: true })
    await store.close()
    t.same(await readFile(`${file}.v2.bak`), v2, 'kraken.json.v2.bak is the version 2 file')
  })

  t.test('after a crash the journal is replayed first: the backup and the migrated file both hold its writes', async t => {
    const dir = await tempDir(t)
    const file = await writeV1(dir)
    const { generation } = JSON.parse(await readFile(file, 'utf8')) as { generation: number }
    // What the release of format 1 left when it was killed: two acknowledged commits in the journal.
    const put = (id: string, label: string): Op => ({ op: 'put', collection: 'streams', id, item: { uuid: id, label } })
    await writeFile(journalPath(file, generation), [
      JSON.stringify({ seq: 1, ops: [put('s3', 'three')] }),
      JSON.stringify({ seq: 2, ops: [{ op: 'delete', collection: 'streams', id: 's1' }] })
    ].join('\n') + '\n')
    const store = await open(file)
    t.same(store.list('streams'), [{ uuid: 's2', name: 'two', enabled: true }, { uuid: 's3', name: 'three', enabled: true }], 'the journal applied, then migrated')
    await store.close()
    const backup = JSON.parse(await readFile(`${file}.v1.bak`, 'utf8')) as Db
    t.equal(backup.format, 'kraken-emulator/1', 'the backup is a version 1 file')
    t.same(backup.collections.streams, [{ uuid: 's2', label: 'two' }, { uuid: 's3', label: 'three' }], 'with the journal folded in: the old release can open it alone')
    t.same((await readdir(dir)).sort(), ['kraken.json', 'kraken.json.v1.bak'], 'the journal is gone')
  })

  t.test('a migrated db the check refuses leaves every file as it was', async t => {
    const dir = await tempDir(t)
    const file = await writeV1(dir)
    const original = await readFile(file)
    const error = await open(file, migrations, () => { throw new Error('streams[0]: enabled is not allowed') }).then(() => undefined, (err: unknown) => err)
    t.ok(error instanceof StoreLoadError, 'a StoreLoadError')
    t.equal((error as Error).message, `${file}: streams[0]: enabled is not allowed`)
    t.same(await readFile(file), original, 'the file is untouched')
    t.same(await readdir(dir), ['kraken.json'], 'no backup, no lock')
  })

  t.test('a migration that cannot convert the data stops the start, naming the file and the version', async t => {
    const dir = await tempDir(t)
    const file = await writeV1(dir)
    const original = await readFile(file)
    const error = await open(file, [toV2, () => { throw new Error('stream s1 has no name') }]).then(() => undefined, (err: unknown) => err)
    t.ok(error instanceof StoreLoadError, 'a StoreLoadError (status 2 and one line from the CLI)')
    t.equal((error as Error).message, `${file}: migrating to format version 3: stream s1 has no name`)
    t.same(await readFile(file), original, 'the file is untouched')
    t.same(await readdir(dir), ['kraken.json'], 'no backup, no lock')
  })

  t.test('a newer file is refused before its journal is replayed', async t => {
    const dir = await tempDir(t)
    const file = await writeV1(dir)
    const v3 = await open(file)
    await v3.close()
    const { generation } = JSON.parse(await readFile(file, 'utf8')) as { generation: number }
    const journal = `${JSON.stringify({ seq: 1, ops: [{ op: 'delete', collection: 'streams', id: 's1' }] })}\n`
    await writeFile(journalPath(file, generation), journal)
    const bytes = await readFile(file)
    const before = (await readdir(dir)).sort()
    const error = await open(file, [toV2]).then(() => undefined, (err: unknown) => err)
    t.ok(error instanceof StoreLoadError, 'a StoreLoadError')
    t.equal((error as Error).message, `${file}: format version 3 was written by a newer kraken-emulator; this one reads versions up to 2`)
    t.same(await readFile(file), bytes, 'the file is untouched')
    t.equal(await readFile(journalPath(file, generation), 'utf8'), journal, 'the journal is untouched')
    t.same((await readdir(dir)).sort(), before, 'nothing written beside it')
  })

  t.test('a seed must be of the current format', async t => {
    const dir = await tempDir(t)
    const error = await open(path.join(dir, 'kraken.json')).then(() => undefined, (err: unknown) => err)
    t.equal((error as Error).message, 'seed: "format" is "kraken-emulator/1", not the current "kraken-emulator/3"')
    t.same(await readdir(dir), [], 'nothing written')
    await t.rejects(openStore({ seed: v1, idField, migrations }), { message: 'seed: "format" is "kraken-emulator/1", not the current "kraken-emulator/3"' }, 'in memory too')
  })

  t.test('a replacement must be of the store\'s format', async t => {
    const store = await openStore({ seed: v1, idField })
    await t.rejects(store.replace({ ...v1(), format: formatOf(2) }), { message: 'invalid replacement db: "format" is "kraken-emulator/2", the store\'s is "kraken-emulator/1"' })
    t.equal(store.snapshot().format, formatOf(1))
  })
})

t.test('migrateDb leaves its argument alone and returns a current db as it is', async t => {
  const db: Db = { format: formatOf(1), fixture: 'f', collections: { streams: [{ uuid: 'a', label: 'x' }] }, singletons: {} }
  const copy = structuredClone(db)
  const migrated = migrateDb(db, [d => { d.collections.streams![0]!.label = 'changed'; return d }])
  t.same(db, copy, 'the argument is unchanged')
  t.equal(migrated.format, formatOf(2))
  t.equal(migrated.collections.streams![0]!.label, 'changed')
  t.equal(migrateDb(migrated, [d => d]), migrated, 'already current: the same object')
  t.throws(() => migrateDb({ ...db, format: formatOf(3) }, [d => d]), { message: 'format version 3 was written by a newer kraken-emulator; this one reads versions up to 2' })
})

t.test('versionOf reads "kraken-emulator/<N>" and nothing else', async t => {
  t.equal(versionOf('kraken-emulator/1'), 1)
  t.equal(versionOf('kraken-emulator/12'), 12)
  for (const bad of [undefined, null, 1, '', 'kraken-emulator/', 'kraken-emulator/0', 'kraken-emulator/01', 'kraken-emulator/1.5', 'kraken-emulator/-1', 'kraken/1', 'kraken-emulator/1 ', 'kraken-emulator/9999999999']) {
    t.equal(versionOf(bad), undefined, JSON.stringify(bad) ?? 'undefined')
  }
})
