import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { acquireLock } from '../src/kernel/file-lock.ts'
import { serializeSnapshot, type SnapshotDoc } from '../src/kernel/snapshot-file.ts'
import { openStore, StoreLoadError, type Db, type Store, type StoreOptions } from '../src/kernel/store.ts'

const idField = (collection: string): string => collection === 'accounts' ? 'name' : 'uuid'

function seed (): Db {
  return {
    format: 'kraken-emulator/1',
    fixture: 'test',
    collections: {
      streams: [{ uuid: 's1', name: 'one' }, { uuid: 's2', name: 'two' }, { uuid: 's3', name: 'three' }],
      accounts: [{ name: 'admin', role: 'admin' }]
    },
    singletons: { systeminfo: { hostname: 'kraken' } }
  }
}

function ids (store: Store, collection: string): unknown[] {
  return store.list(collection).map(item => item[idField(collection)])
}

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-store-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('in memory', async t => {
  const open = (extra: Partial<StoreOptions> = {}): Promise<Store> => openStore({ seed, idField, ...extra })

  t.test('reads the seed in insertion order', async t => {
    const store = await open()
    t.equal(store.file, undefined)
    t.equal(store.fixture(), 'test')
    t.same(ids(store, 'streams'), ['s1', 's2', 's3'])
    t.same(store.get('streams', 's2'), { uuid: 's2', name: 'two' })
    t.same(store.get('accounts', 'admin'), { name: 'admin', role: 'admin' }, 'uses the idField of the collection')
    t.equal(store.get('streams', 'nope'), undefined)
    t.equal(store.get('nope', 's1'), undefined)
    t.same(store.list('nope'), [])
    t.same(store.singleton('systeminfo'), { hostname: 'kraken' })
    t.equal(store.singleton('nope'), undefined)
  })

  t.test('put inserts at the end and replaces in place; delete removes; set replaces a singleton', async t => {
    const store = await open()
    const before = store.list('streams')
    t.equal(store.list('streams'), before, 'list is cached between changes')
    await store.commit([{ op: 'put', collection: 'streams', id: 's4', item: { uuid: 's4', name: 'four' } }])
    t.not(store.list('streams'), before, 'a change invalidates the cached list')
    t.same(ids(store, 'streams'), ['s1', 's2', 's3', 's4'])
    t.same(before.map(item => item.uuid), ['s1', 's2', 's3'], 'a list handed out earlier is not mutated')
    await store.commit([{ op: 'put', collection: 'streams', id: 's2', item: { uuid: 's2', name: 'TWO' } }])
    t.same(ids(store, 'streams'), ['s1', 's2', 's3', 's4'], 'replace keeps the position')
    t.same(store.get('streams', 's2'), { uuid: 's2', name: 'TWO' })
    await store.commit([{ op: 'delete', collection: 'streams', id: 's1' }, { op: 'delete', collection: 'streams', id: 'missing' }])
    t.same(ids(store, 'streams'), ['s2', 's3', 's4'])
    await store.commit([{ op: 'set', singleton: 'systeminfo', value: { hostname: 'other' } }, { op: 'set', singleton: 'network', value: { dhcp: true } }])
    t.same(store.singleton('systeminfo'), { hostname: 'other' })
    t.same(store.singleton('network'), { dhcp: true })
    await store.commit([{ op: 'put', collection: 'outputs', id: 'o1', item: { uuid: 'o1' } }])
    t.same(ids(store, 'outputs'), ['o1'], 'a put into a new collection creates it')
  })

  t.test('commit applies synchronously, before its promise resolves', async t => {
    const store = await open()
    const done = store.commit([{ op: 'delete', collection: 'streams', id: 's3' }])
    t.equal(store.get('streams', 's3'), undefined)
    await done
  })

  t.test('an invalid commit is rejected and applies nothing (atomic)', async t => {
    const store = await open()
    await t.rejects(store.commit([
      { op: 'delete', collection: 'streams', id: 's1' },
      { op: 'put', collection: 'streams', id: 's9', item: { uuid: 'other' } }
    ]), /op #1: item.uuid must equal the op's id "s9"/)
    t.same(ids(store, 'streams'), ['s1', 's2', 's3'])
    await t.rejects(store.commit([{ op: 'put', collection: 'accounts', id: 'bob', item: { uuid: 'bob' } }]), /item.name must equal/)
    // @ts-expect-error an unknown op, as a JavaScript caller could send
    await t.rejects(store.commit([{ op: 'patch', collection: 'streams', id: 's1' }]), /unknown op "patch"/)
  })

  t.test('replace swaps the whole state; snapshot is a deep copy', async t => {
    const store = await open()
    const next = seed()
    next.fixture = 'empty'
    next.collections = { streams: [{ uuid: 'x' }] }
    next.singletons = {}
    await store.replace(next)
    t.equal(store.fixture(), 'empty')
    t.same(ids(store, 'streams'), ['x'])
    t.same(store.list('accounts'), [])
    t.equal(store.singleton('systeminfo'), undefined)

    const copy = store.snapshot()
    t.same(copy, { format: 'kraken-emulator/1', fixture: 'empty', collections: { streams: [{ uuid: 'x' }] }, singletons: {} })
    const first = copy.collections.streams?.[0]
    t.ok(first)
    if (first !== undefined) first.name = 'mutated'
    copy.collections.streams?.push({ uuid: 'y' })
    t.same(store.get('streams', 'x'), { uuid: 'x' }, 'mutating the snapshot does not touch the store')
    t.same(ids(store, 'streams'), ['x'])

    await t.rejects(store.replace({ ...next, collections: { streams: [{ uuid: 'a' }, { uuid: 'a' }] } }), /duplicates uuid "a"/)
    t.same(ids(store, 'streams'), ['x'], 'an invalid replacement changes nothing')
  })

  t.test('scales: 10,000 items, O(1) get', async t => {
    const big = seed()
    big.collections.streams = Array.from({ length: 10_000 }, (_, i) => ({ uuid: `s${i}` }))
    const store = await openStore({ seed: () => big, idField })
    t.equal(store.list('streams').length, 10_000)
    t.same(store.get('streams', 's9999'), { uuid: 's9999' })
  })

  t.test('close is idempotent; commit and replace reject afterwards', async t => {
    const store = await open()
    await store.close()
    await store.close()
    await t.rejects(store.commit([{ op: 'delete', collection: 'streams', id: 's1' }]), /store is closed/)
    await t.rejects(store.replace(seed()), /store is closed/)
    t.same(ids(store, 'streams'), ['s1', 's2', 's3'], 'a rejected commit after close applied nothing')
  })

  t.test('an invalid seed is refused', async t => {
    await t.rejects(openStore({ seed: () => ({ ...seed(), collections: { streams: [{ name: 'no id' }] } }), idField }), /seed: collections.streams\[0\] has no string "uuid"/)
  })
})


t.test('durable', async t => {
  const open = (file: string, extra: Partial<StoreOptions> = {}): Promise<Store> => openStore({ file, seed, idField, ...extra })
  const files = (dir: string): string[] => fs.readdirSync(dir).sort()
  const put = (id: string, extra: Record<string, unknown> = {}): { op: 'put', collection: string, id: string, item: Record<string, unknown> } =>
    ({ op: 'put', collection: 'streams', id, item: { uuid: id, ...extra } })

  // What a crash at this instant leaves on disk: every acknowledged write was fsynced, so copying
  // the files (without the lock, which a dead process would leave behind) is that state.
  function crashCopy (t: { teardown: (fn: () => void) => void }, file: string): string {
    const dir = tempDir(t)
    for (const name of fs.readdirSync(path.dirname(file))) {
      if (name.startsWith(path.basename(file)) && !name.endsWith('.lock')) fs.copyFileSync(path.join(path.dirname(file), name), path.join(dir, name))
    }
    return path.join(dir, path.basename(file))
  }

  t.test('seeds a missing file durably, then reads back everything after close and reopen', async t => {
    const file = path.join(tempDir(t), 'data', 'kraken.json')
    const store = await open(file)
    t.equal(store.file, file)
    t.same(JSON.parse(fs.readFileSync(file, 'utf8')).collections, seed().collections, 'the seed is on disk before any commit')
    await store.commit([put('s4', { name: 'four' }), put('s2', { name: 'TWO' })])
    await store.commit([{ op: 'delete', collection: 'streams', id: 's1' }, { op: 'set', singleton: 'network', value: { dhcp: false } }])
    await store.commit([{ op: 'put', collection: 'accounts', id: 'bob', item: { name: 'bob', role: 'operator' } }])
    const expected = store.snapshot()
    await store.close()
    await store.close()
    await t.rejects(store.commit([put('s5')]), /store is closed/)
    t.same(files(path.dirname(file)), ['kraken.json'], 'a clean close leaves only the data file: no journal, no lock')
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'))
    t.same({ ...onDisk, generation: undefined, seq: undefined }, { ...expected, generation: undefined, seq: undefined }, 'the data file alone is complete and readable')

    const again = await open(file)
    t.same(again.snapshot(), expected)
    t.same(ids(again, 'streams'), ['s2', 's3', 's4'], 'order survives, a replaced item keeps its place')
    t.same(again.get('streams', 's2'), { uuid: 's2', name: 'TWO' })
    t.same(again.singleton('network'), { dhcp: false })
    t.same(again.get('accounts', 'bob'), { name: 'bob', role: 'operator' })
    await again.close()
  })

  t.test('opening and closing without a change does not rewrite the data file', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    await (await open(file)).close()
    const before = fs.readFileSync(file)
    fs.utimesSync(file, new Date(0), new Date(0))
    await (await open(file)).close()
    t.same(fs.readFileSync(file), before)
    t.equal(fs.statSync(file).mtimeMs, 0)
  })

  t.test('replays the journal after a crash', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.commit([put(`n${i}`)])))
    await store.commit([put('s1', { name: 'changed' }), { op: 'delete', collection: 'streams', id: 's3' }])
    const expected = store.snapshot()
    const copy = crashCopy(t, file)
    await store.close()
    t.same(JSON.parse(fs.readFileSync(copy, 'utf8')).collections.streams.length, 3, 'the crashed snapshot predates the commits')
    t.ok(fs.readFileSync(`${copy}.journal.1`, 'utf8').split('\n').length > 20, 'they are in the journal')
    const recovered = await open(copy)
    t.same(recovered.snapshot(), expected)
    t.same(files(path.dirname(copy)), ['kraken.json', 'kraken.json.journal.2', 'kraken.json.lock'], 'the replayed journal was folded into a new generation')
    t.same(JSON.parse(fs.readFileSync(copy, 'utf8')).collections, expected.collections)
    await recovered.close()
  })

  t.test('compacts the journal into new snapshot generations and recovers at any of them', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file, { compactBytes: 2000 })
    const copies: Array<{ file: string, expected: Db }> = []
    for (let round = 0; round < 30; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.commit([put(`r${round}-${i}`, { pad: 'x'.repeat(50) })])))
      if (round % 3 === 0) await store.commit([{ op: 'delete', collection: 'streams', id: `r${round}-0` }])
      // Odd rounds let the background snapshot land before the "crash", even rounds do not.
      if (round % 2 === 1) await new Promise(resolve => setTimeout(resolve, 30))
      copies.push({ file: crashCopy(t, file), expected: store.snapshot() })
    }
    const generation = JSON.parse(fs.readFileSync(file, 'utf8')).generation
    t.ok(generation > 5, `compaction happened (generation ${generation})`)
    t.ok(fs.statSync(`${file}.journal.${generation}`).size < 10_000, 'the live journal stays small')
    const expected = store.snapshot()
    await store.close()
    for (const copy of copies) {
      const recovered = await open(copy.file)
      t.same(recovered.snapshot(), copy.expected, `recovered ${copy.file}`)
      await recovered.close()
    }
    const reopened = await open(file)
    t.same(reopened.snapshot(), expected)
    await reopened.close()
  })

  t.test('a torn last journal line is dropped and truncated away', async t => {
    for (const torn of ['{"seq":999,"ops":[{"op":"put","colle', '\0\0\0\0', 'garbage\n']) {
      const file = path.join(tempDir(t), 'kraken.json')
      const store = await open(file)
      await store.commit([put('kept')])
      const expected = store.snapshot()
      const copy = crashCopy(t, file)
      await store.close()
      fs.appendFileSync(`${copy}.journal.1`, torn)
      const recovered = await open(copy)
      t.same(recovered.snapshot(), expected, `recovered with torn tail ${JSON.stringify(torn)}`)
      t.equal(fs.readFileSync(`${copy}.journal.2`, 'utf8'), '', 'the new journal starts empty')
      t.notOk(fs.existsSync(`${copy}.journal.1`), 'the torn journal is gone')
      await recovered.commit([put('after')])
      await recovered.close()
      t.same(ids(await reopenAndClose(copy), 'streams'), ['s1', 's2', 's3', 'kept', 'after'])
    }
  })

  async function reopenAndClose (file: string): Promise<Store> {
    const store = await open(file)
    await store.close()
    return store
  }

  t.test('concurrent commits share one fdatasync (group commit)', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    // Count the syncs of every file handle while 200 commits are in flight.
    const probe = await fs.promises.open(file, 'r')
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const datasync = proto.datasync
    let syncs = 0
    proto.datasync = function (this: unknown) { syncs++; return datasync.call(this) }
    t.teardown(() => { proto.datasync = datasync })
    // That no commit resolves before its sync completes is checked with held syncs in
    // test/store-faults.test.ts (a check made here, synchronously, could not fail).
    const commits = Array.from({ length: 200 }, (_, i) => store.commit([put(`g${i}`)]))
    await Promise.all(commits)
    proto.datasync = datasync
    t.ok(syncs >= 1 && syncs <= 3, `200 concurrent commits took ${syncs} fdatasync calls`)
    t.equal(fs.readFileSync(`${file}.journal.1`, 'utf8').split('\n').length, 201, 'one journal line per commit')
    await store.close()
  })

  t.test('replace is durable as a snapshot generation of its own', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    await store.commit([put('before')])
    const reset = seed()
    reset.fixture = 'empty'
    reset.collections = {}
    const replaced = store.replace(reset)
    const after = store.commit([put('after')])
    t.same(ids(store, 'streams'), ['after'], 'replace applied synchronously')
    await replaced
    const copyAtReplace = crashCopy(t, file)
    await after
    const copy = crashCopy(t, file)
    await store.close()
    t.equal(JSON.parse(fs.readFileSync(copyAtReplace, 'utf8')).fixture, 'empty', 'the replacement is the snapshot once replace resolved')
    const recovered = await open(copy)
    t.equal(recovered.fixture(), 'empty')
    t.same(ids(recovered, 'streams'), ['after'])
    t.same(ids(recovered, 'accounts'), [])
    await recovered.close()
  })

  t.test('a commit that is not JSON is rejected and applies nothing', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    await t.rejects(store.commit([put('s9', { big: 1n })]), /not serializable as JSON/)
    t.equal(store.get('streams', 's9'), undefined)
    await store.close()
  })

  t.test('a write error (ENOSPC) rejects the commits it hit and undoes them; the store recovers with a snapshot', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file, { compactBytes: 1 })
    // The next journal generation is the disk-full device: the compaction after the first
    // commit switches to it, so the second commit's write fails.
    fs.symlinkSync('/dev/full', `${file}.journal.2`)
    await store.commit([put('a')])
    const failed = store.commit([put('b')])
    await t.rejects(failed, { name: 'StoreUnavailableError', code: 'ENOSPC' })
    t.equal(store.get('streams', 'b'), undefined, 'the rejected commit is undone in memory')
    await store.commit([put('c')])
    t.notOk(fs.existsSync(`${file}.journal.2`), 'the broken journal (which cannot be cut back on /dev/full) was retired')
    await store.close()
    const reopened = await reopenAndClose(file)
    t.same(ids(reopened, 'streams'), ['s1', 's2', 's3', 'a', 'c'], 'a rejected commit leaves no trace')
  })

  t.test('a failing snapshot write rejects replace; the next commit retries it', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    fs.symlinkSync('/dev/full', `${file}.tmp`)
    await t.rejects(store.replace(seed()), { code: 'ENOSPC' })
    await store.commit([put('x')])
    await store.close()
    t.same(ids(await reopenAndClose(file), 'streams'), ['s1', 's2', 's3', 'x'])
  })

  t.test('an invalid data file is refused, named, and left byte for byte as it was', async t => {
    const valid = JSON.stringify({ ...seed(), generation: 1, seq: 0 }, null, 2)
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['truncated', valid.slice(0, 120), /kraken\.json: not valid JSON \(.* at position 120\)/],
      ['empty', '', /kraken\.json: not valid JSON \(.* at position 0\)/],
      ['not JSON', 'hello', /kraken\.json: not valid JSON \(Unexpected token/],
      ['an array', '[]', /kraken\.json: the document is not a JSON object/],
      ['wrong format', JSON.stringify({ ...seed(), format: 'kraken/0' }), /kraken\.json: "format" must be "kraken-emulator\/<version>" \(found "kraken\/0"\)/],
      ['collection not an array', JSON.stringify({ ...seed(), collections: { streams: {} } }), /collections\.streams must be an array/],
      ['item not an object', JSON.stringify({ ...seed(), collections: { streams: [1] } }), /collections\.streams\[0\] must be an object/],
      ['item without id', JSON.stringify({ ...seed(), collections: { streams: [{ uuid: 'a' }, { name: 'x' }] } }), /collections\.streams\[1\] has no string "uuid"/],
      ['duplicate ids', JSON.stringify({ ...seed(), collections: { accounts: [{ name: 'a' }, { name: 'b' }, { name: 'a' }] } }), /collections\.accounts\[2\] duplicates name "a" of collections\.accounts\[0\]/],
      ['bad singleton', JSON.stringify({ ...seed(), singletons: { x: 3 } }), /singletons\.x must be an object/],
      ['bad generation', JSON.stringify({ ...seed(), generation: -1 }), /"generation" must be a non-negative integer/]
    ]
    for (const [name, content, message] of cases) {
      const dir = tempDir(t)
      const file = path.join(dir, 'kraken.json')
      fs.writeFileSync(file, content)
      fs.writeFileSync(`${file}.journal.0`, JSON.stringify({ seq: 1, ops: [put('j')] }) + '\n')
      const bytes = fs.readFileSync(file)
      const error = await open(file).then(() => undefined, (err: unknown) => err)
      t.ok(error instanceof StoreLoadError, `${name}: a StoreLoadError`)
      t.match((error as Error).message, message, name)
      t.ok((error as Error).message.startsWith(`${file}: `), `${name}: the message starts with the file name`)
      t.same(fs.readFileSync(file), bytes, `${name}: the data file is unchanged`)
      t.same(files(dir), ['kraken.json', 'kraken.json.journal.0'], `${name}: nothing written, lock released`)
    }
  })

  t.test('a failing check refuses the file, unchanged', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    await (await open(file)).close()
    const bytes = fs.readFileSync(file)
    const check = (db: Db): void => { if ((db.collections.streams?.length ?? 0) > 2) throw new Error('too many streams') }
    await t.rejects(open(file, { check }), { name: 'StoreLoadError', message: `${file}: too many streams` })
    t.same(fs.readFileSync(file), bytes)
    t.same(files(path.dirname(file)), ['kraken.json'])
  })

  t.test('replay skips journal lines the snapshot already includes, and stale generations', async t => {
    // The state after a crash just after snapshot generation 2 (seq 5) was renamed into place:
    // line 4 was pending when it was cut (so it is in it, and in journal 2), journal 1 was not
    // yet removed. Replaying either would resurrect X, deleted by commit 5.
    const file = path.join(tempDir(t), 'kraken.json')
    fs.writeFileSync(file, JSON.stringify({ ...seed(), collections: { streams: [] }, generation: 2, seq: 5 }))
    const line = (seq: number, ops: unknown[]): string => JSON.stringify({ seq, ops }) + '\n'
    fs.writeFileSync(`${file}.journal.1`, line(4, [put('X')]) + line(5, [{ op: 'delete', collection: 'streams', id: 'X' }]))
    fs.writeFileSync(`${file}.journal.2`, line(4, [put('X')]) + line(6, [put('Y')]))
    const store = await open(file)
    t.same(ids(store, 'streams'), ['Y'])
    await store.close()
  })

  t.test('a corrupt journal line that is not the last is refused; nothing is modified', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    await store.commit([put('a')])
    const copy = crashCopy(t, file)
    await store.close()
    const journal = `${copy}.journal.1`
    fs.writeFileSync(journal, fs.readFileSync(journal, 'utf8') + '{"seq":2,"ops":[{"op":"put"\n' + JSON.stringify({ seq: 3, ops: [put('b')] }) + '\n')
    const before = [fs.readFileSync(copy), fs.readFileSync(journal)]
    await t.rejects(open(copy), { name: 'StoreLoadError', message: new RegExp(`^${journal}: line 2 is corrupt`) })
    t.same([fs.readFileSync(copy), fs.readFileSync(journal)], before)
    t.same(files(path.dirname(copy)), ['kraken.json', 'kraken.json.journal.1'])
  })

  t.test('journals without their data file are refused, not replayed onto the seed', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    fs.writeFileSync(`${file}.journal.3`, '')
    await t.rejects(open(file), { name: 'StoreLoadError', message: /kraken\.json: missing, but journal files exist beside it \(kraken\.json\.journal\.3\)/ })
    t.notOk(fs.existsSync(file))
  })

  t.test('the lock keeps a second store off the file; a stale lock is taken over', async t => {
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    t.equal(fs.readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid))
    await t.rejects(open(file), { name: 'StoreLoadError', message: new RegExp(`in use by process ${process.pid}`) })
    fs.writeFileSync(`${file}.lock`, `${process.ppid}\n`)
    await t.rejects(open(file), { message: new RegExp(`in use by process ${process.ppid}`) }, 'another live process')
    fs.writeFileSync(`${file}.lock`, `${process.pid}\n`)
    await store.close()
    t.notOk(fs.existsSync(`${file}.lock`), 'released on close')

    const dead = spawnSync(process.execPath, ['-e', '']).pid
    fs.writeFileSync(`${file}.lock`, `${dead}\n`)
    const taken = await open(file)
    t.equal(fs.readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid), 'a dead pid\'s lock is taken over')
    await taken.close()
    fs.writeFileSync(`${file}.lock`, `${process.pid}\n`)
    await (await open(file)).close()
    t.pass('our own pid, not held by this process (a restarted container\'s pid 1), is stale too')
  })
})

t.test('taking over a stale lock is atomic: of simultaneous takers exactly one wins, every time', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'kraken.json')
  const dead = spawnSync(process.execPath, ['-e', '']).pid
  const rounds = 100
  let exactlyOne = 0
  for (let round = 0; round < rounds; round++) {
    fs.writeFileSync(`${file}.lock`, `${dead}\n`)
    const takers = round % 2 === 0 ? 2 : 2 + (round % 7)
    const results = await Promise.allSettled(Array.from({ length: takers }, () => acquireLock(file)))
    const won = results.filter(result => result.status === 'fulfilled')
    const lost = results.filter(result => result.status === 'rejected')
    if (won.length === 1) exactlyOne++
    else t.fail(`round ${round}: ${won.length} of ${takers} took the lock`)
    for (const result of lost) t.match(result.reason, { name: 'StoreLoadError', message: /in use by process|keep taking it/ })
    t.equal(fs.readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid))
    for (const result of won) await result.value()
    t.notOk(fs.existsSync(`${file}.lock`), 'released')
  }
  t.equal(exactlyOne, rounds, `exactly one winner in each of ${rounds} rounds`)
  t.same(fs.readdirSync(dir), [], 'no claim or private pid file left behind')
})

t.test('the snapshot serializer writes exactly JSON.stringify(doc, null, 2), in chunks', async t => {
  const docs: SnapshotDoc[] = [
    { format: 'kraken-emulator/1', fixture: 'f', generation: 1, seq: 0, collections: {}, singletons: {} },
    { format: 'kraken-emulator/1', fixture: 'f', generation: 2, seq: 5, collections: { a: [], b: [{ uuid: '1', n: { deep: ['x\ny'] } }] }, singletons: { s: { k: [1, { z: null }] }, e: {} } },
    { format: 'kraken-emulator/1', fixture: 'big', generation: 3, seq: 7, collections: { streams: Array.from({ length: 10_000 }, (_, i) => ({ uuid: `s${i}`, pad: 'p'.repeat(200) })) }, singletons: {} }
  ]
  for (const doc of docs) {
    const chunks = [...serializeSnapshot(doc)]
    t.equal(chunks.join(''), JSON.stringify(doc, null, 2), `${doc.fixture}: identical`)
    if (doc.fixture === 'big') t.ok(chunks.length > 1, `written in ${chunks.length} chunks`)
  }
})
