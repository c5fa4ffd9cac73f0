// The API on a failing disk (issue 14) and writes answered only after their sync (issue 25):
// a write the store could not make durable answers 503 with Retry-After and leaves no trace,
// reads keep working, and writes work again as soon as the disk does, with no restart.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import type { KrakenApp } from '../src/app.ts'
import type { Db } from '../src/kernel/store.ts'
import { call, envelopeOf, login, makeApp } from './helpers/app.ts'
import { installFaults, settle } from './helpers/faults.ts'

const JOURNAL = /\.journal\.\d+$/

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-storage-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function durableApp (t: { teardown: (fn: () => unknown) => void }, data: string): Promise<KrakenApp> {
  const app = await makeApp({ inMemory: false, data })
  t.teardown(() => app.close())
  return app
}

const transcoder = (name: string): Record<string, unknown> => ({ name, video_bitrate: 1500, width: 1280, height: 720 })

async function transcoderNames (app: KrakenApp, cookie: string): Promise<string[]> {
  const res = await call(app, cookie, 'GET', '/apis/v2/transcoders')
  if (res.statusCode !== 200) throw new Error(`GET transcoders: ${res.statusCode}`)
  return (res.json() as { transcoder_list: Array<{ name: string }> }).transcoder_list.map(item => item.name)
}

function namesInFile (data: string): string[] {
  const db = JSON.parse(fs.readFileSync(data, 'utf8')) as Db
  return (db.collections.transcoders ?? []).map(item => String(item.name))
}

t.test('a write answers only after its journal sync completed (issue 25)', async t => {
  const faults = installFaults(t)
  const app = await durableApp(t, path.join(tempDir(t), 'kraken.json'))
  const cookie = await login(app)
  const gate = faults.hold({ kind: 'datasync', path: JOURNAL })
  let answered = false
  const post = call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder('held')).then(res => { answered = true; return res })
  await gate.reached
  await settle()
  // A whole request after it, answered from memory, goes through the server meanwhile.
  t.equal((await call(app, cookie, 'GET', '/apis/v2/transcoders')).statusCode, 200)
  await settle()
  t.equal(answered, false, 'no answer while the fdatasync is held')
  gate.release()
  t.equal((await post).statusCode, 201, 'answered once the sync completed')
})

t.test('a write the disk refuses answers 503, leaves no trace, and can be retried', async t => {
  const faults = installFaults(t)
  const data = path.join(tempDir(t), 'kraken.json')
  const app = await durableApp(t, data)
  const cookie = await login(app)
  const before = await transcoderNames(app, cookie)
  faults.fail({ kind: 'write', path: JOURNAL }, 'ENOSPC')
  const refused = await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder('phantom'))
  t.equal(refused.statusCode, 503)
  t.equal(refused.headers['retry-after'], '1')
  t.equal(refused.headers.server, 'nginx', 'the device headers are there')
  t.match(envelopeOf(refused), { type: 'ServiceUnavailable', message: /storage is full.*nothing was changed/, details: [] })
  t.same(await transcoderNames(app, cookie), before, 'not visible')
  const retried = await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder('phantom'))
  t.equal(retried.statusCode, 201, 'the retry succeeds (no "name already used")')
  await app.close()
  t.same(namesInFile(data).filter(name => name === 'phantom'), ['phantom'], 'persisted once, by the acknowledged retry')
})

t.test('a read-only disk: every write 503, reads work; writable again: writes work with no restart', async t => {
  const faults = installFaults(t)
  const data = path.join(tempDir(t), 'kraken.json')
  const app = await durableApp(t, data)
  const cookie = await login(app)
  const created = await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder('mine'))
  t.equal(created.statusCode, 201)
  const firstUrl = String(created.headers.location)
  const firstBefore = created.json() as unknown
  const before = await transcoderNames(app, cookie)
  faults.fail({ kind: ['write', 'datasync', 'fsync', 'dirsync', 'truncate'] }, 'EROFS', { times: Infinity })
  const attempts = [
    await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder('ro')),
    await call(app, cookie, 'PUT', firstUrl, { video_bitrate: 999 }),
    await call(app, cookie, 'DELETE', firstUrl),
    await call(app, cookie, 'PUT', '/apis/v2/system/network', {})
  ]
  for (const res of attempts) {
    t.equal(res.statusCode, 503, `${res.statusCode} ${res.body}`)
    t.match(envelopeOf(res), { type: 'ServiceUnavailable', message: /read-only/ })
  }
  t.same(await transcoderNames(app, cookie), before, 'reads work and show none of the refused writes')
  t.same((await call(app, cookie, 'GET', firstUrl)).json(), firstBefore, 'the item refused a change and a delete is as it was')
  faults.clear()
  t.equal((await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder('ro'))).statusCode, 201)
  await app.close()
  t.same(namesInFile(data), [...before, 'ro'])
})

t.test('a real full disk: a 2 MB tmpfs', async t => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    t.plan(0, 'skipped: needs root on Linux to mount a tmpfs')
    return
  }
  const mountpoint = tempDir(t)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountpoint], { stdio: 'pipe' })
  } catch (err) {
    t.plan(0, `skipped: cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`)
    return
  }
  t.teardown(() => { execFileSync('umount', [mountpoint]) })
  const data = path.join(mountpoint, 'kraken.json')
  const app = await makeApp({ inMemory: false, data })
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })
  const cookie = await login(app)
  const seeded = await transcoderNames(app, cookie)

  // Leave about 8 KiB free (tmpfs counts whole 4 KiB pages), then write until the disk is full.
  const filler = path.join(mountpoint, 'filler')
  const { bavail, bsize } = fs.statfsSync(mountpoint)
  fs.writeFileSync(filler, Buffer.alloc(Math.max(0, (bavail - 2) * bsize)))
  const acknowledged: string[] = []
  const refused: string[] = []
  for (let i = 0; i < 60; i++) {
    const name = `fill ${i}`
    const res = await call(app, cookie, 'POST', '/apis/v2/transcoders', { ...transcoder(name) })
    if (res.statusCode === 201) acknowledged.push(name)
    else if (res.statusCode === 503 && res.headers['retry-after'] === '1') refused.push(name)
    else t.fail(`a refused write is a 503 with Retry-After: ${res.statusCode} ${res.body}`)
  }
  t.ok(acknowledged.length > 0 && refused.length > 0, `the disk filled up: ${acknowledged.length} acknowledged, ${refused.length} refused`)
  t.same(await transcoderNames(app, cookie), [...seeded, ...acknowledged], 'GET shows exactly the acknowledged writes')
  t.equal((await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder(refused[0]!))).statusCode, 503, 'a retry while full is refused again, not "name already used"')

  fs.rmSync(filler)
  t.equal((await call(app, cookie, 'POST', '/apis/v2/transcoders', transcoder(refused[0]!))).statusCode, 201, 'with room again, the retry succeeds, no restart')
  acknowledged.push(refused[0]!)
  await app.close()
  closed = true
  t.same(namesInFile(data), [...seeded, ...acknowledged], 'the snapshot holds exactly the acknowledged state')
})
