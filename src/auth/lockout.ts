import type { Clock } from '../kernel/clock.ts'

/**
 * Brute-force lockout: after `attempts` consecutive failures a username is locked for `seconds`
 * [ours, after the device's Locked state [docs]]. Kept in memory, like sessions.
 */
export class Lockout {
  private readonly failures = new Map<string, { count: number, lockedUntil: number }>()

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

  recordFailure (username: string): void {
    if (!this.enabled) return
    const entry = this.failures.get(username) ?? { count: 0, lockedUntil: 0 }
    entry.count++
    if (entry.count >= this.attempts) entry.lockedUntil = this.clock.now() + this.seconds * 1000
    this.failures.set(username, entry)
  }

  recordSuccess (username: string): void {
    this.failures.delete(username)
  }

  /** An administrator unlocking the account (state back to Active) clears the count. */
  clear (username?: string): void {
    if (username === undefined) this.failures.clear()
    else this.failures.delete(username)
  }
}
