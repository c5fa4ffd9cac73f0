import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { invalid } from '../kernel/errors.ts'
import { parseScenario, type Scenario } from './scenario-format.ts'

/** The scenarios shipped with the emulator, beside fixtures/ (one level above src/ and dist/). */
export const SCENARIOS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url))
export const SCENARIO_NAME = '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$'

/** Names of the shipped scenarios, sorted. */
export function scenarioNames (): string[] {
  if (!existsSync(SCENARIOS_DIR)) return []
  return readdirSync(SCENARIOS_DIR).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5)).sort()
}

/** A shipped scenario by name; a 400 naming the known ones when there is none. */
export function shippedScenario (name: string): Scenario {
  if (!new RegExp(SCENARIO_NAME).test(name) || !scenarioNames().includes(name)) {
    throw invalid('name', `names no shipped scenario (${scenarioNames().join(', ')})`)
  }
  return parseScenario(JSON.parse(readFileSync(path.join(SCENARIOS_DIR, `${name}.json`), 'utf8')))
}
