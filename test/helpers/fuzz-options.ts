import type { FuzzResult } from './fuzz-harness.ts'

/** Cases per endpoint in CI (`CI=true`, as .ci/run sets it): the floor the fuzz issue asked for. */
export const FULL_RUNS = 1000
/** Cases per endpoint on a developer's `npm test`: a fifth, so the suite stays quick to run often. */
export const QUICK_RUNS = 200

/** The same reading of CI as scripts/test.mjs. */
export function isCi (env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1'
}

/** Cases per endpoint: KRAKEN_FUZZ_RUNS when set, else the full count in CI and the quick one elsewhere. */
export function fuzzRuns (env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KRAKEN_FUZZ_RUNS
  if (raw === undefined) return isCi(env) ? FULL_RUNS : QUICK_RUNS
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`KRAKEN_FUZZ_RUNS must be a positive integer (got ${raw})`)
  return n
}

let chosen: number | undefined

/**
 * The fast-check seed of this run: KRAKEN_FUZZ_SEED to replay one, else a random one, chosen once
 * per process so the file prints it once and every endpoint uses it (as a replay will).
 */
export function fuzzSeed (env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KRAKEN_FUZZ_SEED
  if (raw !== undefined) {
    const n = Number(raw)
    if (!Number.isSafeInteger(n)) throw new Error(`KRAKEN_FUZZ_SEED must be an integer (got ${raw})`)
    return n
  }
  chosen ??= Math.floor(Math.random() * 2 ** 31)
  return chosen
}

/** `fuzz seed 123, 200 cases per endpoint; replay: KRAKEN_FUZZ_SEED=123 KRAKEN_FUZZ_RUNS=200 npx tap test/x.test.ts` */
export function replayLine (file: string): string {
  const seed = fuzzSeed()
  const runs = fuzzRuns()
  return `fuzz seed ${seed}, ${runs} cases per endpoint; replay: KRAKEN_FUZZ_SEED=${seed} KRAKEN_FUZZ_RUNS=${runs} npx tap ${file}`
}

/** `1000 cases: 400 x612, 404 x200, ...` for the test's message. */
export function statusLine (result: FuzzResult): string {
  const parts = [...result.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status} x${n}`)
  return `${result.cases} cases: ${parts.join(', ')}`
}
