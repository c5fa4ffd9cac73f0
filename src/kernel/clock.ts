/**
 * The one source of time. Every part of the emulator that depends on time (sessions, lockouts,
 * stream transitions, statistics, uptime, reboots, device faults) reads it here, so moving this
 * clock moves all of them together.
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

/** `real`: time passes as on the wall clock (plus whatever it was advanced by); `manual`: it moves only when told to. */
export type ClockMode = 'real' | 'manual'

interface Timer { at: number, seq: number, fn: () => void }

/**
 * The device's clock: real time by default, or frozen (`manual`) until advanced; either way it can
 * be moved forward (never back). Moving it fires every timer that falls due, in time order, each
 * seeing the clock at its own due time, as if that time had really passed. Timers live here, not
 * in Node: in real mode one Node timer waits for the earliest of them.
 */
export class DeviceClock implements Clock {
  private currentMode: ClockMode
  /** Manual mode: the time. Real mode: the offset added to the wall clock. */
  private value: number
  /** While timers fire during a move: the time they see. */
  private pinned: number | undefined
  private timers: Timer[] = []
  private seq = 0
  private wake: NodeJS.Timeout | undefined
  private firing = false

  constructor (options: { mode?: ClockMode, start?: number, wallClock?: () => number } = {}) {
    this.wallClock = options.wallClock ?? Date.now
    this.currentMode = options.mode ?? 'real'
    const start = options.start ?? this.wallClock()
    this.value = this.currentMode === 'manual' ? start : start - this.wallClock()
  }

  private readonly wallClock: () => number

  get mode (): ClockMode {
    return this.currentMode
  }

  now = (): number => this.pinned ?? (this.currentMode === 'manual' ? this.value : this.wallClock() + this.value)

  setTimeout = (fn: () => void, ms: number): (() => void) => {
    const timer = { at: this.now() + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    this.arm()
    return () => {
      this.timers = this.timers.filter(t => t !== timer)
      this.arm()
    }
  }

  /** Moves time forward by `ms` (>= 0), firing due timers (including ones they schedule) in time order. */
  advance (ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`the clock moves forward only: ${ms} ms`)
    this.moveTo(this.now() + ms)
  }

  /** Moves time forward to `at` (ms since the epoch); earlier than now throws. */
  set (at: number): void {
    const now = this.now()
    if (!Number.isFinite(at) || at < now) throw new RangeError(`the clock moves forward only: it is ${new Date(now).toISOString()}`)
    this.moveTo(at)
  }

  /** Switches between real and manual time without a jump: the clock goes on from where it is. */
  setMode (mode: ClockMode): void {
    const now = this.now()
    this.currentMode = mode
    this.value = mode === 'manual' ? now : now - this.wallClock()
    this.arm()
  }

  /** Stops the Node timer (the app closes); timers stay, and fire if the clock is moved again. */
  stop (): void {
    if (this.wake !== undefined) clearTimeout(this.wake)
    this.wake = undefined
  }

  private moveTo (target: number): void {
    this.fireUntil(target)
    this.value = this.currentMode === 'manual' ? target : target - this.wallClock()
    this.arm()
  }

  private fireUntil (target: number): void {
    // A timer that moves the clock itself would re-enter; it only lands here when called from one.
    if (this.firing) throw new Error('the clock cannot be moved from inside one of its timers')
    this.firing = true
    try {
      for (;;) {
        const due = this.timers.filter(t => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
        if (due === undefined) break
        this.timers = this.timers.filter(t => t !== due)
        // Each timer sees its own due time (never earlier than one fired before it), also when
        // the wall clock woke it a little late: what it records does not depend on Node's jitter.
        this.pinned = Math.max(this.pinned ?? -Infinity, due.at)
        due.fn()
      }
    } finally {
      this.pinned = undefined
      this.firing = false
    }
  }

  /** Real mode: one Node timer for the earliest due timer. */
  private arm (): void {
    if (this.firing) return
    this.stop()
    if (this.currentMode !== 'real' || this.timers.length === 0) return
    const next = Math.min(...this.timers.map(t => t.at))
    this.wake = setTimeout(() => {
      this.wake = undefined
      this.fireUntil(this.now())
      this.arm()
    }, Math.max(0, Math.min(next - this.now(), 2 ** 31 - 1)))
    this.wake.unref()
  }
}

/** A clock that moves only when told to (tests): `advance(ms)` fires every timer that falls due, in order. */
export class ManualClock extends DeviceClock {
  constructor (start = Date.UTC(2026, 0, 1)) {
    super({ mode: 'manual', start })
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * `15m`, `90s`, `1h30m`, `500ms` or a number of milliseconds, as milliseconds; undefined when
 * malformed. Hand-written: five units need no dependency.
 */
export function parseDuration (value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  const text = value.trim()
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return /^\d+$/.test(text) ? Number(text) : undefined
  let total = 0
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * UNITS[unit!]!
  return Number.isSafeInteger(total) ? total : undefined
}
