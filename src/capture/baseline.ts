import { readFileSync } from 'node:fs'
import { CaptureError, writeFileAtomic } from './capture-format.ts'
import type { Difference } from './parity.ts'

export const BASELINE_FORMAT = 'kraken-parity-baseline/1'

/** The differences known and accepted: a later parity run fails only on others. */
export interface Baseline { format: typeof BASELINE_FORMAT, differences: string[] }

export function readBaseline (file: string): Set<string> {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new CaptureError(`baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const b = raw as Partial<Baseline> | null
  if (b === null || typeof b !== 'object' || b.format !== BASELINE_FORMAT || !Array.isArray(b.differences) || !b.differences.every(d => typeof d === 'string')) {
    throw new CaptureError(`baseline ${file}: expected {"format": "${BASELINE_FORMAT}", "differences": [strings]}`)
  }
  return new Set(b.differences)
}

export function writeBaseline (file: string, differences: readonly Difference[]): void {
  const baseline: Baseline = { format: BASELINE_FORMAT, differences: differences.map(d => d.id) }
  writeFileAtomic(file, JSON.stringify(baseline, null, 2) + '\n')
}
