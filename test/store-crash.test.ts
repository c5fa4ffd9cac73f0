// Kills a process that is writing to a durable store as fast as it can (50 concurrent writers,
// 10,000 items), then checks that every commit it acknowledged survived and that nothing else is
// half there. Some runs force a compaction every few commits so kills land inside compactions.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { openStore, type Store } from '../src/kernel/store.ts'
import { opsFor, SEEDED, WRITERS } from './helpers/store-writer.ts'

const helper = fileURLToPath(new URL('./helpers/store-writer.ts', import.meta.url))
const root = fileURLToPath(new URL('..', import.meta.url))
const WRITE_MS = 1000

interface Run { acks: Array<[number, number]>, signal: NodeJS.Signals | null, stderr: string }

/** Starts the writer, lets it write for WRITE_MS after it is ready, SIGKILLs it. */
function runWriter (file: string, compactBytes: number | undefined): Promise<Run> {
  const args = ['--import', 'tsx', helper, file, ...(compactBytes === undefined ? [] : [String(compactBytes)])]
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  const acks: Array<[number, number]> = []
  let stdout = ''
  let stderr = ''
  let timer: NodeJS.Timeout | undefined
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    const lines = stdout.split('\n')
    stdout = lines.pop() ?? ''
    for (const line of lines) {
      const [word, writer, n] = line.split(' ')
      if (word === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), WRITE_MS)
      else if (word === 'ack') acks.push([Number(writer), Number(n)])
    }
  })
  // A writer that never gets ready must not hang the test.
  const guard = setTimeout(() => child.kill('SIGKILL'), 15_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (_code, signal) => {
      clearTimeout(timer)
      clearTimeout(guard)
      resolve({ acks, signal, stderr })
    })
  })
}

/** The state after commits 0..last of a writer, replayed from scratch: what recovery must show. */
function expectedItems (writer: number, last: number): Map<string, unknown> {
  const items = new Map<string, unknown>()
  for (let n = 0; n <= last; n++) {
    for (const op of opsFor(writer, n)) {
      if (op.op === 'put') items.set(op.id, op.item)
      if (op.op === 'delete') items.delete(op.id)
    }
  }
  return items
}

function copyFiles (file: string, dir: string): string {
  for (const name of fs.readdirSync(path.dirname(file))) {
    if (name.startsWith(path.basename(file)) && !name.endsWith('.lock')) fs.copyFileSync(path.join(path.dirname(file), name), path.join(dir, name))
  }
  return path.join(dir, path.basename(file))
}

t.test('every acknowledged commit survives SIGKILL, with and without frequent compaction', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-store-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'kraken.json')
  // Highest acknowledged n per writer, over all runs so far.
  const acked = new Map<number, number>()
  const runs: Array<number | undefined> = [undefined, 64 * 1024, undefined, 16 * 1024]

  for (const [index, compactBytes] of runs.entries()) {
    const generationBefore = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).generation as number : 0
    const run = await runWriter(file, compactBytes)
    t.equal(run.stderr, '', `run ${index}: the writer reported no error`)
    t.equal(run.signal, 'SIGKILL', `run ${index}: the writer was killed, not stopped`)
    t.ok(run.acks.length > 200, `run ${index}: ${run.acks.length} commits acknowledged (compactBytes ${compactBytes ?? 'default'})`)
    for (const [writer, n] of run.acks) acked.set(writer, Math.max(n, acked.get(writer) ?? -1))
    if (compactBytes !== undefined) {
      const generation = JSON.parse(fs.readFileSync(file, 'utf8')).generation as number
      t.ok(generation > generationBefore + 2, `run ${index}: compacted during the run (generation ${generationBefore} -> ${generation})`)
    }

    // Recover a copy here and let the next writer run recover the original itself.
    const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-store-'))
    t.teardown(() => fs.rmSync(copyDir, { recursive: true, force: true }))
    const store = await openStore({ file: copyFiles(file, copyDir), seed: () => { throw new Error('the data file must exist') }, idField: () => 'uuid' })
    checkRecovered(t, store, acked, `run ${index}`)
    await store.close()
  }

  const store = await openStore({ file, seed: () => { throw new Error('the data file must exist') }, idField: () => 'uuid' })
  checkRecovered(t, store, acked, 'final')
  await store.close()
  t.same(fs.readdirSync(dir), ['kraken.json'], 'after a clean close only the data file remains')
})

interface Asserts {
  equal: (found: unknown, wanted: unknown, message: string) => unknown
  ok: (value: unknown, message: string) => unknown
}

function checkRecovered (t: Asserts, store: Store, acked: Map<number, number>, label: string): void {
  let lost = 0
  const offenders: string[] = []
  let partial = 0
  let expectedCount = SEEDED
  for (let writer = 0; writer < WRITERS; writer++) {
    const last = store.singleton(`writer-${writer}`)?.n as number | undefined ?? -1
    const ack = acked.get(writer) ?? -1
    // At most the one commit in flight when the process died can be there unacknowledged.
    if (last < ack || last > ack + 1) {
      lost++
      if (offenders.length < 3) offenders.push(`writer ${writer}: recovered ${last}, acknowledged ${ack} (${last < ack ? 'lost' : 'gained'})`)
    }
    const expected = expectedItems(writer, last)
    expectedCount += expected.size
    for (const [id, item] of expected) if (JSON.stringify(store.get('streams', id)) !== JSON.stringify(item)) partial++
  }
  // The offenders say which way it went: a loss is a durability bug, a gain a lost ack line.
  t.equal(lost, 0, `${label}: no writer lost an acknowledged commit or gained more than its one in-flight commit${offenders.length > 0 ? ` (${offenders.join('; ')})` : ''}`)
  t.equal(partial, 0, `${label}: every item is exactly as the commits up to the recovered one made it (atomic commits)`)
  t.equal(store.list('streams').length, expectedCount, `${label}: nothing else is there (${expectedCount} items)`)
  t.ok(store.get('streams', `seed-${SEEDED - 1}`), `${label}: the seed is intact`)
}
