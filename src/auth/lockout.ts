import type { Clock } from '../kernel/clock.ts'

/** One login attempt counted before its password is checked; settle it exactly once. */
export interface Attempt {
  /** The password was wrong: the attempt counts toward the lock. */
  failed: () => void
  /** The password was right: the count starts over. */
  succeeded: () => void
  /** Neither counts (the account may not log in anyway, or the check itself failed). */
  dropped: () => void
}

interface Entry {
  /** Consecutive failures settled so far. */
  count: number
  /** Attempts reserved and not settled yet (their hash is being computed). */
  pending: number
  lockedUntil: number
  /** Attempts waiting for a pending one to settle. */
  waiters: Array<() => void>
}

const UNCOUNTED: Attempt = { failed: () => {}, succeeded: () => {}, dropped: () => {} }

/**
 * Brute-force lockout: after `attempts` consecutive failures a username is locked for `seconds`
 * [ours, after the device's Locked state [docs]]. Kept in memory, like sessions.
 *
 * An attempt is counted when it starts, before its hash is awaited, and settled when the hash
 * is known. Concurrent attempts then lock an account exactly as the same attempts one after the
 * other would: at most `attempts` are in flight at once, and one more waits until one settles
 * (locked, it is refused; the count started over, it goes ahead). Checking the lock only before
 * the hash let 30 concurrent guesses all be checked, and a right one settling last unlocked it.
 */
export class Lockout {
  private readonly failures = new Map<string, Entry>()

  constructor (private readonly clock: Clock, private readonly attempts: number, private readonly seconds: number) {}

  private get enabled (): boolean {
    return this.attempts > 0 && this.seconds > 0
  }

  isLocked (username: string): boolean {
    const entry = this.failures.get(username)
    if (entry === undefined || !this.enabled) return false
    if (entry.lockedUntil > this.clock.now()) return true
    if (entry.lockedUntil !== 0) this.failures.delete(username)
    return false
  }

  lockedUntil (username: string): number | undefined {
    return this.isLocked(username) ? this.failures.get(username)?.lockedUntil : undefined
  }

  /** Counts an attempt before its password is checked; undefined when the account is locked. */
  async reserve (username: string): Promise<Attempt | undefined> {
    if (!this.enabled) return UNCOUNTED
    for (;;) {
      if (this.isLocked(username)) return undefined
      let entry = this.failures.get(username)
      if (entry === undefined) {
        entry = { count: 0, pending: 0, lockedUntil: 0, waiters: [] }
        this.failures.set(username, entry)
      }
      if (entry.count + entry.pending < this.attempts) {
        entry.pending++
        return this.attempt(username, entry)
      }
      const full = entry
      await new Promise<void>(resolve => full.waiters.push(resolve))
    }
  }

  private attempt (username: string, entry: Entry): Attempt {
    let settled = false
    const settle = (outcome: 'failed' | 'succeeded' | 'dropped') => {
      if (settled) return
      settled = true
      entry.pending--
      if (outcome === 'failed') {
        entry.count++
        if (entry.count >= this.attempts) entry.lockedUntil = this.clock.now() + this.seconds * 1000
      } else if (outcome === 'succeeded') {
        entry.count = 0
      }
      for (const wake of entry.waiters.splice(0)) wake()
      const idle = entry.count === 0 && entry.pending === 0 && entry.lockedUntil === 0
      if (idle && this.failures.get(username) === entry) this.failures.delete(username)
    }
    return { failed: () => settle('failed'), succeeded: () => settle('succeeded'), dropped: () => settle('dropped') }
  }

  /** An administrator unlocking the account (state back to Active) clears the count. */
  clear (username?: string): void {
    const cleared = username === undefined ? [...this.failures.values()] : [this.failures.get(username)]
    if (username === undefined) this.failures.clear()
    else this.failures.delete(username)
    // Attempts waiting on a cleared count look again (at a fresh one); pending ones settle on the
    // old count, which no longer matters.
    for (const entry of cleared) for (const wake of entry?.waiters.splice(0) ?? []) wake()
  }
}
