import type { Clock } from '../kernel/clock.ts'

export interface RebootDeps {
  clock: Clock
  delayMs: () => number
  /** Ends every session and stops every stream. */
  shutdown: () => void
  /** Comes back up: auto-start. */
  boot: () => void
}

/**
 * `POST /apis/v2/system/reboot`: the device goes down at once (sessions end, streams stop), stays
 * unavailable for `--reboot-ms` of the clock, then boots and auto-starts its streams.
 */
export class Reboot {
  private until: number | undefined
  private cancelTimer: (() => void) | undefined

  constructor (private readonly deps: RebootDeps) {}

  /** Milliseconds until the device is back, or undefined when it is up. */
  remainingMs (): number | undefined {
    if (this.until === undefined) return undefined
    return Math.max(0, this.until - this.deps.clock.now())
  }

  start (): void {
    this.cancel()
    this.deps.shutdown()
    const delay = this.deps.delayMs()
    if (delay <= 0) {
      this.deps.boot()
      return
    }
    this.until = this.deps.clock.now() + delay
    this.cancelTimer = this.deps.clock.setTimeout(() => {
      this.cancelTimer = undefined
      this.until = undefined
      this.deps.boot()
    }, delay)
  }

  /** Abandons a reboot in progress without booting (reset and close decide what follows). */
  cancel (): void {
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.until = undefined
  }
}
