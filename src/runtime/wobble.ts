/**
 * Deterministic, slowly varying signals for the live statistics. Everything is a pure function of
 * (seed, stream uuid, channel, elapsed time), so values never depend on how often or in which
 * order clients ask, and a fixed `--seed` plus an advanced clock gives exact values.
 */

// The PRNG lives in the kernel (kernel/prng.ts): the fault injector draws from it too.
export { hashKey, mulberry32, prngFor } from '../kernel/prng.ts'

interface Component { amplitude: number, omega: number, phase: number }

/**
 * A factor near 1 that wanders smoothly: f(t) = 1 + Σ aᵢ·cos(ωᵢt + φᵢ), with Σ aᵢ well below 1,
 * so f stays positive and its integral (what counters accumulate) only ever grows.
 */
export class Wobble {
  private readonly components: Component[]

  /** `depth` is the largest relative deviation (0.03 = ±3 %). */
  constructor (random: () => number, depth: number) {
    const slow = depth * (0.55 + 0.15 * random())
    const fast = depth - slow
    this.components = [
      // Periods of a minute or two and of ten seconds or so: "slowly varying" on a dashboard.
      { amplitude: slow, omega: (2 * Math.PI) / (45 + 75 * random()), phase: 2 * Math.PI * random() },
      { amplitude: fast, omega: (2 * Math.PI) / (8 + 12 * random()), phase: 2 * Math.PI * random() }
    ]
  }

  /** The factor at `t` seconds. */
  at (t: number): number {
    let f = 1
    for (const c of this.components) f += c.amplitude * Math.cos(c.omega * t + c.phase)
    return f
  }

  /** ∫ f from `a` to `b` (seconds): how many seconds of nominal rate accumulate; grows with `b`. */
  between (a: number, b: number): number {
    let s = b - a
    for (const c of this.components) s += (c.amplitude / c.omega) * (Math.sin(c.omega * b + c.phase) - Math.sin(c.omega * a + c.phase))
    return s
  }
}
