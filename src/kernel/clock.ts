/**
 * The one source of time. Production uses the wall clock; tests replace it with a manual clock
 * they advance, so no test sleeps for real seconds.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now: () => number
  /** Runs `fn` after `ms` of this clock's time; returns a function that cancels it. */
  setTimeout: (fn: () => void, ms: number) => () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout (fn, ms) {
    const timer = setTimeout(fn, ms)
    timer.unref?.()
    return () => clearTimeout(timer)
  }
}

/** A clock that moves only when told to: `advance(ms)` fires every timer that falls due, in order. */
export class ManualClock implements Clock {
  private current: number
  private timers: Array<{ at: number, seq: number, fn: () => void }> = []
  private seq = 0

  constructor (start = Date.UTC(2026, 0, 1)) {
    this.current = start
  }

  now = (): number => this.current

  setTimeout = (fn: () => void, ms: number): (() => void) => {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return () => { this.timers = this.timers.filter(t => t !== timer) }
  }

  /** Moves time forward, firing due timers (including ones they schedule) in time order. */
  advance (ms: number): void {
    const target = this.current + ms
    for (;;) {
      const due = this.timers.filter(t => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due === undefined) break
      this.timers = this.timers.filter(t => t !== due)
      this.current = Math.max(this.current, due.at)
      due.fn()
    }
    this.current = target
  }
}
