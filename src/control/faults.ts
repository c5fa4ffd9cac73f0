import { randomInt } from 'node:crypto'
import { prngFor } from '../kernel/prng.ts'
import { compileMatcher, type RequestFacts, type RequestMatcher } from './request-match.ts'

/** The actions a fault can take, in the order the documentation lists them. */
export const FAULT_ACTIONS = ['delay', 'error', 'reset', 'empty', 'dribble'] as const

export type FaultAction =
  /** Answer after `ms` (or a draw from minMs..maxMs), on the emulator's clock. */
  | { type: 'delay', ms?: number, minMs?: number, maxMs?: number }
  /** Answer `status` with the device's error envelope instead of running the route. */
  | { type: 'error', status: number, message?: string }
  /** Reset the TCP connection (RST) without answering. */
  | { type: 'reset' }
  /** Close the connection without sending a byte. */
  | { type: 'empty' }
  /** Send the real answer `chunkBytes` at a time, one chunk every `intervalMs`. */
  | { type: 'dribble', chunkBytes: number, intervalMs: number }

export interface FaultSpec {
  match: RequestMatcher
  action: FaultAction
  /** How many requests it strikes at most; unlimited when absent. */
  times?: number
  /** The chance it strikes a matching request (default 1), drawn from the seeded generator. */
  probability?: number
}

export interface Fault extends FaultSpec {
  id: string
  probability: number
  /** Requests it struck so far. */
  hits: number
  /** Strikes left (null: unlimited). */
  remaining: number | null
}

interface Armed { fault: Fault, test: (facts: RequestFacts) => boolean, random: () => number }

/**
 * The faults of one device, tried in the order they were added: the first that matches, has
 * strikes left and wins its draw strikes. Each fault draws from its own generator, seeded from
 * `--seed` and its id, so a run with a seed fails the same requests every time (and adding a
 * fault does not change another one's draws).
 */
export class Faults {
  private armed: Armed[] = []
  private next = 0
  readonly seed: number

  constructor (seed: number | undefined) {
    this.seed = seed ?? randomInt(2 ** 31 - 1)
  }

  get size (): number {
    return this.armed.length
  }

  add (spec: FaultSpec): Fault {
    const id = `fault-${++this.next}`
    const fault: Fault = { id, match: spec.match, action: spec.action, probability: spec.probability ?? 1, hits: 0, remaining: spec.times ?? null }
    if (spec.times !== undefined) fault.times = spec.times
    this.armed.push({ fault, test: compileMatcher(spec.match), random: prngFor(this.seed, 'fault', id) })
    return fault
  }

  all (): Fault[] {
    return this.armed.map(a => a.fault)
  }

  get (id: string): Fault | undefined {
    return this.armed.find(a => a.fault.id === id)?.fault
  }

  remove (id: string): boolean {
    const before = this.armed.length
    this.armed = this.armed.filter(a => a.fault.id !== id)
    return this.armed.length !== before
  }

  clear (): void {
    this.armed = []
  }

  /** The fault that strikes this request, counting the strike, with the delay it draws (if any). */
  strike (facts: RequestFacts): { fault: Fault, delayMs: number } | undefined {
    for (const { fault, test, random } of this.armed) {
      if (fault.remaining === 0 || !test(facts)) continue
      if (fault.probability < 1 && random() >= fault.probability) continue
      fault.hits++
      if (fault.remaining !== null) fault.remaining--
      return { fault, delayMs: delayOf(fault.action, random) }
    }
    return undefined
  }
}

function delayOf (action: FaultAction, random: () => number): number {
  if (action.type !== 'delay') return 0
  if (action.ms !== undefined) return action.ms
  const min = action.minMs ?? 0
  const max = action.maxMs ?? min
  return min + Math.floor(random() * (max - min + 1))
}
