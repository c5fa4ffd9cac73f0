// A fault plan for the durable store's I/O (src/kernel/durable-fs.ts): fail chosen writes, syncs
// or truncations as a full, read-only or broken disk would, or hold a sync until the test releases
// it. One Faults object per test; `uninstall` (registered as a teardown by `installFaults`) removes it.
import { fsError, setFaultPlan, type FsOp } from '../../src/kernel/durable-fs.ts'

export type FaultCode = 'ENOSPC' | 'EIO' | 'EROFS'
export interface Match { kind?: FsOp['kind'] | Array<FsOp['kind']>, path?: RegExp }

export interface Gate {
  /** resolves when an operation reaches the gate (and is held there) */
  readonly reached: Promise<FsOp>
  /** lets the held operation proceed */
  release: () => void
  /** makes the held operation fail with `code` */
  fail: (code: FaultCode) => void
}

function matches (match: Match, op: FsOp): boolean {
  const kinds = match.kind === undefined ? undefined : ([] as Array<FsOp['kind']>).concat(match.kind)
  return (kinds === undefined || kinds.includes(op.kind)) && (match.path === undefined || match.path.test(op.path))
}

export class Faults {
  /** every operation seen, in order */
  readonly seen: FsOp[] = []
  #rules: Array<{ match: Match, code: FaultCode, skip: number, times: number }> = []
  #gates: Array<{ match: Match, arrive: (op: FsOp) => Promise<void> }> = []

  constructor () {
    setFaultPlan({ before: op => this.#before(op) })
  }

  /** Fails `times` matching operations with `code`, after letting `skip` of them succeed. */
  fail (match: Match, code: FaultCode, { skip = 0, times = 1 }: { skip?: number, times?: number } = {}): this {
    this.#rules.push({ match, code, skip, times })
    return this
  }

  /** Holds the next matching operation until the gate is released (or failed). */
  hold (match: Match): Gate {
    let arrived!: (op: FsOp) => void
    const reached = new Promise<FsOp>(resolve => { arrived = resolve })
    let release!: () => void
    let fail!: (code: FaultCode) => void
    const passage = new Promise<FaultCode | undefined>(resolve => {
      release = () => resolve(undefined)
      fail = code => resolve(code)
    })
    this.#gates.push({
      match,
      arrive: async op => {
        arrived(op)
        const code = await passage
        if (code !== undefined) throw fsError(code, op.kind, op.path)
      }
    })
    return { reached, release, fail }
  }

  /** Removes every rule and gate not yet used: the disk works again. */
  clear (): void {
    this.#rules = []
    this.#gates = []
  }

  uninstall (): void {
    setFaultPlan(undefined)
  }

  async #before (op: FsOp): Promise<void> {
    this.seen.push(op)
    const gate = this.#gates.findIndex(g => matches(g.match, op))
    if (gate !== -1) {
      const [held] = this.#gates.splice(gate, 1)
      await held!.arrive(op)
    }
    for (const rule of this.#rules) {
      if (rule.times <= 0 || !matches(rule.match, op)) continue
      if (rule.skip > 0) {
        rule.skip--
        continue
      }
      rule.times--
      throw fsError(rule.code, op.kind, op.path)
    }
  }
}

export function installFaults (t: { teardown: (fn: () => void) => void }): Faults {
  const faults = new Faults()
  t.teardown(() => faults.uninstall())
  return faults
}

/** Lets every pending promise callback run: a promise chain that waits on no I/O has settled by
 *  then. (The store acknowledges with no I/O after its last sync, so a missing await shows.) */
export function settle (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}
