// A store on a failing disk (issue 14) and syncs that really are awaited (issue 25): a write that
// did not become durable leaves no trace, and nothing is acknowledged before its sync completes.
// Faults are injected below the store through the fault plan of src/kernel/durable-fs.ts.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { openStore, StoreUnavailableError, type Db, type Op, type Store, type StoreOptions } from '../src/kernel/store.ts'
import { installFaults, settle } from './helpers/faults.ts'

const idField = (collection: string): string => collection === 'accounts' ? 'name' : 'uuid'

function seed (): Db {
  return {
    format: 'kraken-emulator/1',
    fixture: 'test',
    collections: { streams: [{ uuid: 's1' }, { uuid: 's2' }, { uuid: 's3' }] },
    singletons: { systeminfo: { hostname: 'kraken' } }
  }
}

const put = (id: string, extra: Record<string, unknown> = {}): Op => ({ op: 'put', collection: 'streams', id, item: { uuid: id, ...extra } })
const del = (id: string): Op => ({ op: 'delete', collection: 'streams', id })
const ids = (store: Store): unknown[] => store.list('streams').map(item => item.uuid)
const streamIds = (db: Db): unknown[] => (db.collections.streams ?? []).map(item => item.uuid)

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-faults-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const open = (file: string, extra: Partial<StoreOptions> = {}): Promise<Store> => openStore({ file, seed, idField, ...extra })

/** The files a crash at this instant would leave (the lock aside: a dead process's lock is stale). */
function crashCopy (t: { teardown: (fn: () => void) => void }, file: string): string {
  const dir = tempDir(t)
  for (const name of fs.readdirSync(path.dirname(file))) {
    if (name.startsWith(path.basename(file)) && !name.includes('.lock')) fs.copyFileSync(path.join(path.dirname(file), name), path.join(dir, name))
  }
  return path.join(dir, path.basename(file))
}

/** What a restart from these files holds: the store's whole state (opened and closed again). */
async function afterRestart (file: string): Promise<Db> {
  const store = await open(file)
  const db = store.snapshot()
  await store.close()
  return db
}

const JOURNAL = /\.journal\.\d+$/
const TEMP = /\.tmp$/

t.test('nothing is acknowledged before its sync completes (issue 25)', async t => {
  t.test('a commit resolves only after the journal fdatasync', async t => {
    const faults = installFaults(t)
    const store = await open(path.join(tempDir(t), 'kraken.json'))
    const gate = faults.hold({ kind: 'datasync', path: JOURNAL })
    let resolved = false
    const commit = store.commit([put('a')]).then(() => { resolved = true })
    await gate.reached
    await settle()
    t.equal(resolved, false, 'not resolved while its fdatasync is held')
    gate.release()
    await commit
    t.equal(resolved, true, 'resolved once the sync completed')
    await store.close()
  })

  t.test('commits group-committed behind a held sync resolve only after their own sync', async t => {
    const faults = installFaults(t)
    const store = await open(path.join(tempDir(t), 'kraken.json'))
    const first = faults.hold({ kind: 'datasync', path: JOURNAL })
    const resolved: string[] = []
    const a = store.commit([put('a')]).then(() => { resolved.push('a') })
    await first.reached
    const second = faults.hold({ kind: 'datasync', path: JOURNAL })
    const rest = ['b', 'c', 'd'].map(id => store.commit([put(id)]).then(() => { resolved.push(id) }))
    first.release()
    await a
    await second.reached
    await settle()
    t.same(resolved, ['a'], 'b, c, d wait for the second sync, which is held')
    second.release()
    await Promise.all(rest)
    t.same(resolved, ['a', 'b', 'c', 'd'])
    await store.close()
  })

  t.test('replace resolves only after the snapshot file fsync and the directory fsync', async t => {
    const faults = installFaults(t)
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    await store.commit([put('a')])
    const fileSync = faults.hold({ kind: 'fsync', path: TEMP })
    let resolved = false
    const replaced = store.replace({ ...seed(), fixture: 'other' }).then(() => { resolved = true })
    await fileSync.reached
    const dirSync = faults.hold({ kind: 'dirsync', path: new RegExp(`^${path.dirname(file)}$`) })
    await settle()
    t.equal(resolved, false, 'not resolved while the snapshot file fsync is held')
    fileSync.release()
    await dirSync.reached
    await settle()
    t.equal(resolved, false, 'not resolved while the directory fsync (after the rename) is held')
    dirSync.release()
    await replaced
    t.equal(resolved, true)
    await store.close()
  })
})

t.test('a journal write that fails leaves no trace (issue 14)', async t => {
  for (const [kind, code] of [['write', 'ENOSPC'], ['datasync', 'EIO'], ['write', 'EROFS']] as const) {
    t.test(`${code} on the journal ${kind}`, async t => {
      const faults = installFaults(t)
      const file = path.join(tempDir(t), 'kraken.json')
      const store = await open(file)
      await store.commit([put('a')])
      faults.fail({ kind, path: JOURNAL }, code)
      const before = store.rollbacks()
      const failed = store.commit([put('b'), del('s2'), { op: 'set', singleton: 'systeminfo', value: { hostname: 'changed' } }])
      t.same(ids(store), ['s1', 's3', 'a', 'b'], 'applied in memory while the write is in flight')
      await t.rejects(failed, StoreUnavailableError)
      await t.rejects(failed, { code })
      t.same(ids(store), ['s1', 's2', 's3', 'a'], 'undone: b is gone and s2 is back in its place')
      t.same(store.singleton('systeminfo'), { hostname: 'kraken' }, 'the singleton is back')
      t.equal(store.rollbacks(), before + 1)
      t.same((await afterRestart(crashCopy(t, file))).collections.streams, [{ uuid: 's1' }, { uuid: 's2' }, { uuid: 's3' }, { uuid: 'a' }], 'a crash now recovers only the acknowledged write')
      await store.commit([put('b')])
      t.same(ids(store), ['s1', 's2', 's3', 'a', 'b'], 'the same write succeeds once the disk works, with no restart')
      await store.close()
      t.same((await afterRestart(file)).collections.streams, [{ uuid: 's1' }, { uuid: 's2' }, { uuid: 's3' }, { uuid: 'a' }, { uuid: 'b' }])
    })
  }

  t.test('a failed group commit undoes every commit of its batch and every commit applied after it', async t => {
    const faults = installFaults(t)
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    const first = faults.hold({ kind: 'datasync', path: JOURNAL })
    const x = store.commit([put('x')])
    await first.reached
    // b and c queue behind x's sync and go out together in the next write, which fails.
    const batch = [store.commit([put('b')]), store.commit([put('c', { of: 'b' })])]
    faults.fail({ kind: 'write', path: JOURNAL }, 'ENOSPC')
    const writing = faults.hold({ kind: 'write', path: JOURNAL })
    first.release()
    await x
    await writing.reached
    // d is applied on top of b and c while their write is in flight.
    const d = store.commit([del('x'), put('d')])
    writing.release()
    for (const commit of [...batch, d]) await t.rejects(commit, StoreUnavailableError)
    t.same(ids(store), ['s1', 's2', 's3', 'x'], 'only the acknowledged x remains, in its place')
    t.same(streamIds(await afterRestart(crashCopy(t, file))), ['s1', 's2', 's3', 'x'])
    await store.commit([put('b')])
    await store.close()
    t.same(streamIds(await afterRestart(file)), ['s1', 's2', 's3', 'x', 'b'])
  })

  t.test('a write checked against state that a rollback undid is refused', async t => {
    const faults = installFaults(t)
    const store = await open(path.join(tempDir(t), 'kraken.json'))
    faults.fail({ kind: 'write', path: JOURNAL }, 'ENOSPC')
    const failed = store.commit([put('input')])
    // A route reads the state (the input exists), then awaits (hashing, say) before committing.
    const basis = store.rollbacks()
    t.ok(store.get('streams', 'input'), 'the pending input is visible to the check')
    await t.rejects(failed, StoreUnavailableError)
    await t.rejects(store.commit([put('uses-input', { input: 'input' })], basis), StoreUnavailableError, 'its basis was undone')
    t.equal(store.get('streams', 'uses-input'), undefined)
    await store.commit([put('other')], store.rollbacks())
    t.ok(store.get('streams', 'other'), 'a basis read after the rollback is fine')
    await store.close()
  })

  t.test('when the failed lines cannot be cut from the journal, a snapshot supersedes it before the next acknowledgement', async t => {
    const faults = installFaults(t)
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    await store.commit([put('a')])
    // The lines reach the file, the sync fails, and so does cutting them off.
    faults.fail({ kind: 'datasync', path: JOURNAL }, 'EIO').fail({ kind: 'truncate' }, 'EIO')
    await t.rejects(store.commit([put('phantom')]), StoreUnavailableError)
    t.match(fs.readFileSync(`${file}.journal.1`, 'utf8'), /phantom/, 'the unacknowledged line is still in the journal file')
    await store.commit([put('b')])
    t.same(streamIds(await afterRestart(crashCopy(t, file))), ['s1', 's2', 's3', 'a', 'b'], 'a crash after the next acknowledgement does not replay it')
    await store.close()
    t.same(streamIds(await afterRestart(file)), ['s1', 's2', 's3', 'a', 'b'])
  })

  t.test('while the disk refuses every write, commits are refused and reads work; when it recovers, writes work', async t => {
    const faults = installFaults(t)
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file)
    faults.fail({ kind: ['write', 'datasync', 'fsync', 'dirsync', 'truncate'] }, 'EROFS', { times: Infinity })
    for (let i = 0; i < 5; i++) await t.rejects(store.commit([put(`ro${i}`)]), { name: 'StoreUnavailableError', code: 'EROFS' })
    t.same(ids(store), ['s1', 's2', 's3'], 'reads keep working and show nothing refused')
    faults.clear()
    await store.commit([put('back')])
    await store.close()
    t.same(streamIds(await afterRestart(file)), ['s1', 's2', 's3', 'back'])
  })
})

t.test('a snapshot that fails leaves no trace', async t => {
  for (const [kind, code] of [['write', 'ENOSPC'], ['fsync', 'EIO'], ['dirsync', 'EIO']] as const) {
    t.test(`replace with ${code} on the snapshot ${kind}`, async t => {
      const faults = installFaults(t)
      const file = path.join(tempDir(t), 'kraken.json')
      const store = await open(file)
      await store.commit([put('a')])
      faults.fail(kind === 'dirsync' ? { kind, path: new RegExp(`^${path.dirname(file)}$`) } : { kind, path: TEMP }, code, { skip: kind === 'dirsync' ? 1 : 0 })
      const replaced = store.replace({ ...seed(), fixture: 'other', collections: { streams: [{ uuid: 'r1' }] } })
      const after = store.commit([put('after')])
      t.same(ids(store), ['r1', 'after'], 'applied in memory while the snapshot is written')
      await t.rejects(replaced, { name: 'StoreUnavailableError', code })
      await t.rejects(after, StoreUnavailableError, 'a commit made on top of the replace is undone with it')
      t.equal(store.fixture(), 'test')
      t.same(ids(store), ['s1', 's2', 's3', 'a'], 'the state before the replace is back')
      await store.commit([put('b')])
      t.same(await afterRestart(crashCopy(t, file)), { ...seed(), collections: { streams: [{ uuid: 's1' }, { uuid: 's2' }, { uuid: 's3' }, { uuid: 'a' }, { uuid: 'b' }] } },
        'a crash after the next acknowledgement recovers exactly the acknowledged state')
      await store.close()
      const db = JSON.parse(fs.readFileSync(file, 'utf8')) as Db
      t.same(db.collections.streams?.map(item => item.uuid), ['s1', 's2', 's3', 'a', 'b'], 'the snapshot written afterwards holds exactly the acknowledged state')
    })
  }

  t.test('a failed background compaction loses nothing and does not stop commits', async t => {
    const faults = installFaults(t)
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file, { compactBytes: 200 })
    const warnings: string[] = []
    const onWarning = (warning: Error): void => { warnings.push(warning.message) }
    process.on('warning', onWarning)
    t.teardown(() => { process.off('warning', onWarning) })
    faults.fail({ kind: 'write', path: TEMP }, 'ENOSPC', { times: 3 })
    const made: string[] = []
    for (let i = 0; i < 40; i++) {
      await store.commit([put(`c${i}`, { pad: 'x'.repeat(40) })])
      made.push(`c${i}`)
    }
    await settle()
    t.ok(warnings.some(w => /snapshot failed; compaction retried later/.test(w)), 'the failure is reported as a warning')
    t.same(streamIds(await afterRestart(crashCopy(t, file))), ['s1', 's2', 's3', ...made], 'a crash recovers every commit')
    await store.close()
    t.same(streamIds(await afterRestart(file)), ['s1', 's2', 's3', ...made])
  })

  t.test('a compaction cut while commits are queued does not make them durable behind their back', async t => {
    const faults = installFaults(t)
    const file = path.join(tempDir(t), 'kraken.json')
    const store = await open(file, { compactBytes: 1 })
    const held = faults.hold({ kind: 'datasync', path: JOURNAL })
    const first = store.commit([put('a')])
    await held.reached
    // queued while a's sync is held; after it, a compaction cuts a snapshot, then their write fails
    const queued = [store.commit([put('q1')]), store.commit([put('q2')])]
    faults.fail({ kind: 'write', path: JOURNAL }, 'ENOSPC')
    held.release()
    await first
    for (const commit of queued) await t.rejects(commit, StoreUnavailableError)
    await store.close()
    t.same(streamIds(await afterRestart(file)), ['s1', 's2', 's3', 'a'], 'neither q1 nor q2 is in any snapshot')
  })
})

t.test('start-up file errors are StoreLoadErrors naming the file', async t => {
  t.test('no room for the recovery snapshot', async t => {
    const dir = tempDir(t)
    const file = path.join(dir, 'kraken.json')
    const store = await open(file)
    await store.commit([put('a')])
    const crashed = crashCopy(t, file)
    await store.close()
    const before = fs.readdirSync(path.dirname(crashed)).sort()
    const faults = installFaults(t)
    faults.fail({ kind: 'write', path: TEMP }, 'ENOSPC')
    await t.rejects(open(crashed), { name: 'StoreLoadError', message: `${crashed}: cannot write the recovery snapshot (ENOSPC: no space left on device, write '${crashed}.tmp')` })
    t.same(fs.readdirSync(path.dirname(crashed)).sort(), before, 'no temporary or lock file is left behind')
    faults.clear()
    t.same(streamIds(await afterRestart(crashed)), ['s1', 's2', 's3', 'a'], 'the next start, with room, recovers')
  })

  t.test('a data path under a regular file', async t => {
    const dir = tempDir(t)
    fs.writeFileSync(path.join(dir, 'plain'), 'x')
    const file = path.join(dir, 'plain', 'data', 'kraken.json')
    await t.rejects(open(file), { name: 'StoreLoadError', message: new RegExp(`^${path.join(dir, 'plain', 'data')}: cannot create the data directory \\((ENOTDIR|EEXIST)`) })
  })

  t.test('a failed lock write leaves no stray lock file', async t => {
    const dir = tempDir(t)
    const file = path.join(dir, 'kraken.json')
    const faults = installFaults(t)
    faults.fail({ kind: 'write', path: /\.lock\.\d+\.\d+$/ }, 'ENOSPC')
    await t.rejects(open(file), { name: 'StoreLoadError', message: /kraken\.json\.lock: cannot create the lock file \(ENOSPC/ })
    t.same(fs.readdirSync(dir), [], 'nothing left behind')
  })

  t.test('no room for the seed', async t => {
    const dir = tempDir(t)
    const file = path.join(dir, 'kraken.json')
    const faults = installFaults(t)
    faults.fail({ kind: 'fsync', path: TEMP }, 'EIO')
    await t.rejects(open(file), { name: 'StoreLoadError', message: new RegExp(`^${file}: cannot create the data file \\(EIO`) })
    t.same(fs.readdirSync(dir), [], 'no data, temporary or lock file left behind')
  })
})
