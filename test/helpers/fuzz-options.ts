import type { FuzzResult } from './fuzz-harness.ts'

/** Cases per endpoint: 1,000 by default (the floor); KRAKEN_FUZZ_RUNS for a deeper run. */
export function fuzzRuns (): number {
  const raw = process.env.KRAKEN_FUZZ_RUNS
  const n = raw === undefined ? 1000 : Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`KRAKEN_FUZZ_RUNS must be a positive integer (got ${raw})`)
  return n
}

/** A fixed fast-check seed to replay a failure (fast-check prints the seed it used). */
export function fuzzSeed (): number | undefined {
  const raw = process.env.KRAKEN_FUZZ_SEED
  return raw === undefined ? undefined : Number(raw)
}

/** `1000 cases: 400 x612, 404 x200, ...` for the test's message. */
export function statusLine (result: FuzzResult): string {
  const parts = [...result.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status} x${n}`)
  return `${result.cases} cases: ${parts.join(', ')}`
}
