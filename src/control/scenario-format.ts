import { Type } from 'typebox'
import { parseDuration } from '../kernel/clock.ts'
import { invalid } from '../kernel/errors.ts'
import { assertValid } from '../kernel/validator.ts'

/** The format a scenario file declares; the number after the slash is its version. */
export const SCENARIO_FORMAT = 'kraken-emulator-scenario/1'
export const MAX_STEPS = 1000
const DAY_MS = 86_400_000

const Call = Type.Object({
  method: Type.Union([Type.Literal('GET'), Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('DELETE')], { description: 'the HTTP method' }),
  path: Type.String({ pattern: '^/apis/v2/', maxLength: 2048, description: 'a device API path (under /apis/v2/); {stream:NAME}, {input:NAME}, {output:NAME}, {transcoder:NAME} and {metadata:NAME} become the uuid of the object of that name when the step runs' }),
  as: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the account the call is made as (default: haiadmin); the player opens a session for it' })),
  body: Type.Optional(Type.Unknown({ description: 'the JSON body (name references work in its strings too)' })),
  expect: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'the status the call must answer (default: any 2xx); anything else fails the scenario' }))
}, { additionalProperties: false })

const Event = Type.Object({
  type: Type.String({ minLength: 1, description: 'a device event type (POST /_emulator/device/events)' })
}, { additionalProperties: true, description: 'the body of POST /_emulator/device/events: its type and fields (name references work in its strings)' })

const Step = Type.Object({
  at: Type.String({ minLength: 1, maxLength: 32, description: 'when, from the scenario\'s start on the device clock: m:ss, h:mm:ss, or a duration (90s, 2m45s, 500ms)' }),
  note: Type.Optional(Type.String({ maxLength: 500, description: 'what the step shows, for the trainer (the status\'s `last`)' })),
  call: Type.Optional(Call),
  event: Type.Optional(Event)
}, { additionalProperties: false })

export const ScenarioSchema = Type.Object({
  format: Type.Literal(SCENARIO_FORMAT, { description: `the format and its version: "${SCENARIO_FORMAT}"` }),
  name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$', description: 'the scenario\'s name' }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  fixture: Type.Optional(Type.String({ maxLength: 128, description: 'the fixture it is written for (informative)' })),
  steps: Type.Array(Step, { minItems: 1, maxItems: MAX_STEPS })
}, { additionalProperties: false })

export interface ScenarioCall { method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, as?: string, body?: unknown, expect?: number }
export interface ScenarioStep { atMs: number, at: string, note?: string, call?: ScenarioCall, event?: Record<string, unknown> & { type: string } }
export interface Scenario { name: string, description?: string, fixture?: string, steps: ScenarioStep[] }

/** `0:30`, `1:02:03`, or a duration (`90s`, `2m45s`); undefined when malformed. */
export function parseAt (text: string): number | undefined {
  const clock = /^(?:(\d+):)?(\d+):([0-5]\d)$/.exec(text.trim())
  if (clock !== null) {
    const [, h, m, s] = clock
    if (h !== undefined && Number(m) > 59) return undefined
    return ((Number(h ?? 0) * 60 + Number(m)) * 60 + Number(s)) * 1000
  }
  return /^\d+$/.test(text.trim()) ? undefined : parseDuration(text)
}

/** `m:ss` (or `h:mm:ss`) of a time from the start, for people. */
export function formatAt (ms: number): string {
  const s = Math.floor(ms / 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`
}

/**
 * Checks a scenario document and returns it ready to play; throws a 400 KrakenError (Validation)
 * whose details name each problem by its place (`steps.2.at`).
 */
export function parseScenario (document: unknown): Scenario {
  if (typeof document === 'object' && document !== null && 'format' in document && typeof document.format === 'string' && document.format !== SCENARIO_FORMAT) {
    const version = /^kraken-emulator-scenario\/(\d+)$/.exec(document.format)?.[1]
    throw invalid('format', version === undefined
      ? `must be "${SCENARIO_FORMAT}"`
      : `is version ${version}; this emulator plays version 1 ("${SCENARIO_FORMAT}")`)
  }
  assertValid(ScenarioSchema, document, 'scenario')
  const doc = document as { name: string, description?: string, fixture?: string, steps: Array<{ at: string, note?: string, call?: ScenarioCall, event?: Record<string, unknown> & { type: string } }> }
  let previous = 0
  const steps = doc.steps.map((step, i): ScenarioStep => {
    const field = `steps.${i}`
    if ((step.call === undefined) === (step.event === undefined)) throw invalid(field, 'needs exactly one of call and event')
    const atMs = parseAt(step.at)
    if (atMs === undefined) throw invalid(`${field}.at`, `"${step.at}" is not a time: write m:ss, h:mm:ss or a duration such as 90s or 2m45s`)
    if (atMs > 366 * DAY_MS) throw invalid(`${field}.at`, 'is more than a year after the start')
    if (atMs < previous) throw invalid(`${field}.at`, `${step.at} comes before the previous step (${formatAt(previous)}): list steps in time order`)
    if (step.call !== undefined && step.call.method === 'GET' && step.call.body !== undefined) throw invalid(`${field}.call.body`, 'a GET sends no body')
    previous = atMs
    return { atMs, at: formatAt(atMs), ...(step.note !== undefined && { note: step.note }), ...(step.call !== undefined && { call: step.call }), ...(step.event !== undefined && { event: step.event }) }
  })
  return { name: doc.name, ...(doc.description !== undefined && { description: doc.description }), ...(doc.fixture !== undefined && { fixture: doc.fixture }), steps }
}
