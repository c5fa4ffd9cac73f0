// The check stamp (StoreOptions.checkKey, issue 23): a data file the store wrote from a checked
// state and left untouched is opened without running the (slow) full check again; anything else
// is checked in full: another key, an edited byte, a journal to replay after a crash.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { openStore, type Db, type Store, type StoreOptions } from '../src/kernel/store.ts'
import { buildApp } from '../src/app.ts'

const idField = (collection: string): string => collection === 'accounts' ? 'name' : 'uuid'

function seed (): Db {
  return {
    format: 'kraken-emulator/1',
    fixture: 'test',
    collections: { streams: [{ uuid: 's1', name: 'one' }, { uuid: 's2', name: 'two' }] },
    singletons: { systeminfo: { hostname: 'kraken' } }
  }
}

function tempFile (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-stamp-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, 'kraken.json')
}

/** Opens with a check that counts its calls. */
async function open (file: string, checkKey: string | undefined, extra: Partial<StoreOptions> = {}): Promise<{ store: Store, checks: () => number }> {
  let checks = 0
  const store = await openStore({ file, seed, idField, check: () => { checks++ }, ...(checkKey !== undefined && { checkKey }), ...extra })
  return { store, checks: () => checks }
}

const put = (id: string, name: string): { op: 'put', collection: string, id: string, item: Record<string, unknown> } =>
  ({ op: 'put', collection: 'streams', id, item: { uuid: id, name } })

/** A file left by a clean stop of a store with key `k1` after one change. */
async function stampedFile (t: { teardown: (fn: () => void) => void }): Promise<{ file: string, expected: Db }> {
  const file = tempFile(t)
  const { store } = await open(file, 'k1')
  await store.commit([put('s3', 'three')])
  const expected = store.snapshot()
  await store.close()
  return { file, expected }
}

t.test('a file the store left at a clean stop is opened without the full check, with the same content', async t => {
  const { file, expected } = await stampedFile(t)
  const text = fs.readFileSync(file, 'utf8')
  t.match(text, /,\n {2}"checked": "k1 [0-9a-f]{64}"\n\}$/, 'the snapshot ends with the stamp')
  const again = await open(file, 'k1')
  t.equal(again.checks(), 0, 'not checked again')
  t.same(again.store.snapshot(), expected, 'the stamp is not part of the data')
  t.notOk('checked' in (again.store.snapshot() as unknown as Record<string, unknown>))
  await again.store.close()
  t.equal(fs.readFileSync(file, 'utf8'), text, 'opening and closing without a change leaves it as it was')
})

t.test('a stamp of another key (another release or schema) means a full check', async t => {
  const { file } = await stampedFile(t)
  const again = await open(file, 'k2')
  t.equal(again.checks(), 1)
  await again.store.close()
})

t.test('a file edited after the stamp is checked in full, and its stamp is not trusted', async t => {
  const { file, expected } = await stampedFile(t)
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"three"', '"THREE"'))
  const again = await open(file, 'k1')
  t.equal(again.checks(), 1)
  t.equal(again.store.get('streams', 's3')?.name, 'THREE', 'the edit is read as it is')
  t.not(again.store.snapshot(), expected)
  await again.store.close()
})

t.test('a stamp that was forged or cut short is not trusted', async t => {
  const { file } = await stampedFile(t)
  const text = fs.readFileSync(file, 'utf8')
  for (const [what, forged] of [
    ['wrong digest', text.replace(/ [0-9a-f]{64}"/, ` ${'0'.repeat(64)}"`)],
    ['no digest', text.replace(/ [0-9a-f]{64}"/, '"')],
    ['hand-written stamp on an unstamped file', JSON.stringify({ ...seed(), checked: 'k1 x' }, null, 2)]
  ] as const) {
    fs.writeFileSync(file, forged)
    const again = await open(file, 'k1')
    t.equal(again.checks(), 1, `${what}: checked`)
    await again.store.close()
  }
})

t.test('after a crash (a journal to replay) the file is checked in full', async t => {
  const { file } = await stampedFile(t)
  const { store } = await open(file, 'k1')
  await store.commit([put('s4', 'four')])
  // What a crash leaves: the acknowledged journal beside the stamped snapshot, no clean stop.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-stamp-crash-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const name of fs.readdirSync(path.dirname(file))) {
    if (!name.endsWith('.lock')) fs.copyFileSync(path.join(path.dirname(file), name), path.join(dir, name))
  }
  await store.close()
  const recovered = await open(path.join(dir, 'kraken.json'), 'k1')
  t.equal(recovered.checks(), 1, 'checked, since the journal adds what the stamp does not cover')
  t.equal(recovered.store.get('streams', 's4')?.name, 'four', 'and the journal was replayed')
  await recovered.store.close()
  const reopened = await open(path.join(dir, 'kraken.json'), 'k1')
  t.equal(reopened.checks(), 0, 'the recovery snapshot (written after the check) is stamped')
  await reopened.store.close()
})

t.test('without a check key nothing is stamped and every open is checked', async t => {
  const file = tempFile(t)
  const { store } = await open(file, undefined)
  await store.commit([put('s3', 'three')])
  await store.close()
  t.notMatch(fs.readFileSync(file, 'utf8'), /"checked"/)
  const again = await open(file, undefined)
  t.equal(again.checks(), 1)
  await again.store.close()
})

t.test('the emulator trusts the data file it left, and checks a hand-edited one', async t => {
  const file = tempFile(t)
  const first = await buildApp({ data: file, logLevel: 'silent', transitionMs: 0, rebootMs: 0 })
  await first.close()
  t.match(fs.readFileSync(file, 'utf8'), /"checked": "kraken-emulator@\S+ kraken-emulator\/\d+ [0-9a-f]{16} [0-9a-f]{64}"\n\}$/, 'the seeded file carries the stamp')
  // An edit the check refuses: were it trusted, the emulator would start on an invalid device.
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Db & { checked: string }
  const stream = doc.collections.streams?.[0]
  t.ok(stream, 'the default fixture has a stream')
  stream!.mode = 'not-a-mode'
  fs.writeFileSync(file, JSON.stringify(doc, null, 2))
  await t.rejects(buildApp({ data: file, logLevel: 'silent', transitionMs: 0, rebootMs: 0 }), /streams\[0\].*mode/, 'the full check runs and refuses it')
})
