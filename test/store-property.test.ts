// Property (issue 14): for random interleavings of writes (some concurrent, so they share a group
// commit), whole-state replaces, compactions and injected disk failures (ENOSPC, EIO, EROFS on the
// Nth write, sync or truncation), the state after a restart is exactly the acknowledged writes
// applied in order, and so is the state in memory. At least 200 interleavings; more with CI=true.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import type { FsOp } from '../src/kernel/durable-fs.ts'
import { openStore, type Db, type Item, type Op, type Store } from '../src/kernel/store.ts'
import { Faults, type FaultCode } from './helpers/faults.ts'
import { isCi } from './helpers/fuzz-options.ts'

const RUNS = isCi() ? 500 : 200
const idField = (): string => 'uuid'

function seed (): Db {
  return { format: 'kraken-emulator/1', fixture: 'seed', collections: { streams: [{ uuid: 'k0', v: -1 }, { uuid: 'k1', v: -1 }] }, singletons: {} }
}

type Action =
  | { kind: 'commit', ops: Op[] }
  | { kind: 'replace', items: Item[] }
  | { kind: 'wait' } // let everything in flight settle before going on

const key = fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4')
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ id: key, v: fc.nat(99) }).map(({ id, v }): Op => ({ op: 'put', collection: 'streams', id, item: { uuid: id, v } })) },
  { weight: 1, arbitrary: key.map((id): Op => ({ op: 'delete', collection: 'streams', id })) },
  { weight: 1, arbitrary: fc.nat(99).map((v): Op => ({ op: 'set', singleton: 'config', value: { v } })) }
)
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.array(op, { minLength: 1, maxLength: 3 }).map((ops): Action => ({ kind: 'commit', ops })) },
  { weight: 1, arbitrary: fc.uniqueArray(key, { maxLength: 3 }).map((ids): Action => ({ kind: 'replace', items: ids.map(id => ({ uuid: id, v: 100 })) })) },
  { weight: 3, arbitrary: fc.constant<Action>({ kind: 'wait' }) }
)
const fault = fc.record({
  nth: fc.nat(80),
  kind: fc.constantFrom<Array<FsOp['kind']>>(['write'], ['datasync'], ['fsync'], ['dirsync'], ['truncate'], ['write', 'datasync', 'fsync', 'dirsync', 'truncate']),
  code: fc.constantFrom<FaultCode>('ENOSPC', 'EIO', 'EROFS'),
  times: fc.integer({ min: 1, max: 4 })
})

/** The model: what the store must hold, given the acknowledged changes in the order they were made. */
class Model {
  items = new Map<string, Item>()
  singletons = new Map<string, Record<string, unknown>>()
  constructor (db: Db) { this.load(db) }
  load (db: Db): void {
    this.items = new Map((db.collections.streams ?? []).map(item => [String(item.uuid), item]))
    this.singletons = new Map(Object.entries(db.singletons))
  }

  apply (ops: Op[]): void {
    for (const o of ops) {
      if (o.op === 'set') this.singletons.set(o.singleton, o.value)
      else if (o.op === 'delete') this.items.delete(o.id)
      else this.items.set(o.id, o.item)
    }
  }

  state (): unknown {
    return { streams: [...this.items.values()], singletons: Object.fromEntries(this.singletons) }
  }
}

function stateOf (db: Db): unknown {
  return { streams: db.collections.streams ?? [], singletons: db.singletons }
}

/**
 * The files a crash at this instant would leave, copied while the store may still be compacting in
 * the background. The temp snapshot is left out (recovery never reads it, and it is renamed away at
 * any moment); a file that vanishes mid-copy (an old journal dropped after the new snapshot was
 * renamed in) means the copy mixes two moments, so it is taken again from the start.
 */
function copyFiles (file: string, to: string): string {
  for (let attempt = 0; ; attempt++) {
    try {
      for (const name of fs.readdirSync(to)) fs.rmSync(path.join(to, name))
      for (const name of fs.readdirSync(path.dirname(file))) {
        if (name.startsWith(path.basename(file)) && !name.includes('.lock') && !name.endsWith('.tmp')) fs.copyFileSync(path.join(path.dirname(file), name), path.join(to, name))
      }
      return path.join(to, path.basename(file))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw error
    }
  }
}

async function restarted (file: string): Promise<Db> {
  const store = await openStore({ file, seed, idField })
  const db = store.snapshot()
  await store.close()
  return db
}

t.test(`the state after a restart is exactly the acknowledged writes (${RUNS} interleavings)`, async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-property-'))
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))
  // A failed compaction is reported with a warning; hundreds of them are expected here.
  const quiet = (): void => {}
  process.on('warning', quiet)
  const emitWarning = process.emitWarning
  process.emitWarning = (() => {}) as typeof process.emitWarning
  t.teardown(() => { process.emitWarning = emitWarning; process.off('warning', quiet) })
  let run = 0
  let refusedTotal = 0
  let acknowledgedTotal = 0

  await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), fc.array(fault, { maxLength: 3 }), fc.boolean(), async (actions, faults, compactOften) => {
    const dir = path.join(root, String(run++))
    fs.mkdirSync(dir)
    const file = path.join(dir, 'kraken.json')
    const plan = new Faults()
    let store: Store | undefined
    try {
      store = await openStore({ file, seed, idField, ...(compactOften && { compactBytes: 150 }) })
      const opened = store
      for (const f of faults) plan.fail({ kind: f.kind }, f.code, { skip: f.nth, times: f.times })
      const model = new Model(seed())
      // Outcomes land in call order: the store acknowledges in order, so the model applies
      // acknowledged changes in the order they were made.
      const outcomes: Array<Promise<{ ok: boolean, apply: () => void }>> = []
      const settleAll = async (): Promise<void> => {
        for (const outcome of await Promise.all(outcomes.splice(0))) {
          if (outcome.ok) { outcome.apply(); acknowledgedTotal++ } else refusedTotal++
        }
      }
      for (const a of actions) {
        if (a.kind === 'wait') {
          await settleAll()
          continue
        }
        const made = a.kind === 'commit' ? opened.commit(a.ops) : opened.replace({ ...seed(), collections: { streams: a.items } })
        const apply = a.kind === 'commit' ? () => model.apply(a.ops) : () => model.load({ ...seed(), collections: { streams: a.items } })
        outcomes.push(made.then(() => ({ ok: true, apply }), (err: unknown) => {
          if ((err as Error).name !== 'StoreUnavailableError') throw err
          return { ok: false, apply }
        }))
      }
      await settleAll()
      const expected = model.state()
      if (!isEqual(stateOf(opened.snapshot()), expected)) throw new Error(`memory: ${JSON.stringify(stateOf(opened.snapshot()))} != ${JSON.stringify(expected)}`)
      // The disk works again: one more write is acknowledged (so a pending recovery snapshot is
      // written), then a crash at this instant and a clean stop must both give the model.
      plan.clear()
      await opened.commit([{ op: 'set', singleton: 'marker', value: { run } }])
      model.apply([{ op: 'set', singleton: 'marker', value: { run } }])
      const crashDir = path.join(dir, 'crash')
      fs.mkdirSync(crashDir)
      const afterCrash = stateOf(await restarted(copyFiles(file, crashDir)))
      await opened.close()
      store = undefined
      const afterStop = stateOf(await restarted(file))
      if (!isEqual(afterCrash, model.state())) throw new Error(`after a crash: ${JSON.stringify(afterCrash)} != ${JSON.stringify(model.state())}`)
      if (!isEqual(afterStop, model.state())) throw new Error(`after a stop: ${JSON.stringify(afterStop)} != ${JSON.stringify(model.state())}`)
    } finally {
      plan.uninstall()
      await store?.close().catch(() => undefined)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }), { numRuns: RUNS })
  t.ok(refusedTotal > 0 && acknowledgedTotal > 0, `${acknowledgedTotal} changes acknowledged and ${refusedTotal} refused over ${RUNS} runs`)
})

function isEqual (a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
