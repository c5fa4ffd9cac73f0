import type { Clock } from '../kernel/clock.ts'
import { conflict } from '../kernel/errors.ts'
import type { Scenario, ScenarioStep } from './scenario-format.ts'

export type ScenarioState = 'running' | 'finished' | 'failed' | 'stopped'

/** What the live page and GET /_emulator/scenarios show of the scenario playing (or last played). */
export interface ScenarioStatus {
  name: string
  /** Steps done. */
  step: number
  steps: number
  /** Device-clock time since the start (frozen when it ended). */
  elapsedMs: number
  /** When the last step is due, from the start. */
  durationMs: number
  state: ScenarioState
  /** The last step done (its note, or its call and answer), or why the scenario failed or stopped. */
  last?: string
}

/** A request through the emulator's own HTTP handling: guards, hooks and the request log see it like any client's. */
export interface ScenarioRequest { method: string, url: string, headers: Record<string, string>, payload?: string }

/** What the player needs of the emulator it plays on. */
export interface ScenarioHost {
  clock: Clock
  request: (request: ScenarioRequest) => Promise<{ statusCode: number, body: string }>
  /** The uuid of the object named `name` in `collection`, or undefined. */
  lookup: (collection: string, name: string) => string | undefined
  /** A live session id for the account (opened behind the API, as a login would); throws when the account cannot log in. */
  session: (username: string) => string
  /** The control token the device-event route needs, if one is in force. */
  controlToken: () => string | undefined
  /** Where a failure is reported besides the status. */
  warn: (details: Record<string, unknown>, message: string) => void
}

const REFERENCES: Record<string, string> = { stream: 'streams', input: 'inputs', output: 'outputs', transcoder: 'transcoders', metadata: 'metadata' }
const REFERENCE = /\{(stream|input|output|transcoder|metadata):([^{}]+)\}/g
const DEFAULT_ACCOUNT = 'haiadmin'
const EVENTS_PATH = '/_emulator/device/events'

interface Run {
  scenario: Scenario
  startedAt: number
  done: number
  state: ScenarioState
  last?: string
  endedAt?: number
  cancels: Array<() => void>
  /** Steps run one after another, in time order, even when one clock move makes several due. */
  queue: Promise<void>
}

/**
 * Plays one scenario at a time on the device clock: each step is a timer of the clock, so a
 * manual clock moved forward plays the steps that fall due, in order. The API calls go through
 * the emulator's HTTP handling (`host.request`), so they show in the request log like a client's.
 */
export class ScenarioPlayer {
  private run: Run | undefined
  private readonly listeners = new Set<(status: ScenarioStatus) => void>()

  constructor (private readonly host: ScenarioHost) {}

  /** The scenario playing, or the last one played; undefined before the first. */
  status (): ScenarioStatus | undefined {
    const run = this.run
    if (run === undefined) return undefined
    const steps = run.scenario.steps
    return {
      name: run.scenario.name,
      step: run.done,
      steps: steps.length,
      elapsedMs: Math.max(0, (run.endedAt ?? this.host.clock.now()) - run.startedAt),
      durationMs: steps[steps.length - 1]?.atMs ?? 0,
      state: run.state,
      ...(run.last !== undefined && { last: run.last })
    }
  }

  /** Calls `listener` with the status at every change (start, each step, the end); returns the unsubscribe. */
  subscribe (listener: (status: ScenarioStatus) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Starts `scenario` now; a 409 while another is running. */
  start (scenario: Scenario): ScenarioStatus {
    const current = this.status()
    if (current?.state === 'running') {
      throw conflict(`scenario '${current.name}' is running (step ${current.step} of ${current.steps}): stop it first (DELETE /_emulator/scenarios)`, [{ field: 'name', message: `'${current.name}' is running` }])
    }
    const { clock } = this.host
    const run: Run = { scenario, startedAt: clock.now(), done: 0, state: 'running', cancels: [], queue: Promise.resolve() }
    this.run = run
    scenario.steps.forEach((step, index) => {
      const due = (): void => { run.queue = run.queue.then(async () => { await this.play(run, step, index) }) }
      // A manual clock fires a 0 ms timer only when moved: steps at 0:00 play at once.
      if (step.atMs === 0) due()
      else run.cancels.push(clock.setTimeout(due, step.atMs))
    })
    this.emit()
    return this.status()!
  }

  /** Stops the scenario playing (its remaining steps never run); undefined when none ever played. */
  stop (reason = 'stopped'): ScenarioStatus | undefined {
    const run = this.run
    if (run?.state === 'running') this.end(run, 'stopped', reason)
    return this.status()
  }

  /** Resolves once no step is in flight (tests move the clock, then wait for the steps it made due). */
  async idle (): Promise<void> {
    let seen: Promise<void> | undefined
    while (this.run !== undefined && seen !== this.run.queue) {
      seen = this.run.queue
      await seen
    }
  }

  private async play (run: Run, step: ScenarioStep, index: number): Promise<void> {
    if (run.state !== 'running' || this.run !== run) return
    let summary: string
    try {
      summary = await this.execute(run.scenario, step)
    } catch (error) {
      if (run.state !== 'running') return
      const message = `step ${index + 1} (${step.at}) failed: ${(error as Error).message}`
      this.host.warn({ scenario: run.scenario.name, step: index + 1 }, message)
      this.end(run, 'failed', message)
      return
    }
    if (run.state !== 'running') return
    run.done++
    run.last = summary
    if (run.done === run.scenario.steps.length) this.end(run, 'finished', summary)
    else this.emit()
  }

  private end (run: Run, state: ScenarioState, last: string): void {
    for (const cancel of run.cancels) cancel()
    run.cancels = []
    run.state = state
    run.last = last
    run.endedAt = this.host.clock.now()
    this.emit()
  }

  private emit (): void {
    const status = this.status()
    if (status === undefined) return
    for (const listener of this.listeners) {
      try {
        listener(status)
      } catch (error) {
        // One broken subscriber (a closed page) must not stop the scenario or the other subscribers.
        this.host.warn({ err: error }, 'a scenario subscriber failed')
      }
    }
  }

  /** Runs one step; answers its summary line, or throws an Error saying what went wrong. */
  private async execute (scenario: Scenario, step: ScenarioStep): Promise<string> {
    const host = this.host
    const resolve = <T>(value: T): T => resolveReferences(value, host) as T
    const headers: Record<string, string> = { 'user-agent': `kraken-emulator-scenario (${scenario.name})` }
    let method: string, url: string, payload: unknown, expect: number | undefined
    if (step.call !== undefined) {
      method = step.call.method
      url = resolve(step.call.path)
      payload = step.call.body === undefined ? undefined : resolve(step.call.body)
      expect = step.call.expect
      headers.cookie = `id=${host.session(step.call.as ?? DEFAULT_ACCOUNT)}`
    } else {
      method = 'POST'
      url = EVENTS_PATH
      payload = resolve(step.event)
      const token = host.controlToken()
      if (token !== undefined) headers['x-kraken-control-token'] = token
    }
    if (payload !== undefined) headers['content-type'] = 'application/json'
    const res = await host.request({ method, url, headers, ...(payload !== undefined && { payload: JSON.stringify(payload) }) })
    const what = step.call !== undefined ? `${method} ${url}` : `device event ${String(step.event?.type)}`
    const ok = expect === undefined ? res.statusCode >= 200 && res.statusCode < 300 : res.statusCode === expect
    if (!ok) throw new Error(`${what} answered ${res.statusCode}${expect === undefined ? '' : ` (expected ${expect})`}${errorMessage(res.body)}`)
    return `${step.at} ${step.note ?? what}: ${res.statusCode}`
  }
}

/** `{stream:NAME}` (and input, output, transcoder, metadata) in every string of `value`, as uuids. */
function resolveReferences (value: unknown, host: ScenarioHost): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, kind: string, name: string) => {
      const uuid = host.lookup(REFERENCES[kind]!, name)
      if (uuid === undefined) throw new Error(`no ${kind} is named '${name}'`)
      return uuid
    })
  }
  if (Array.isArray(value)) return value.map(v => resolveReferences(v, host))
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, host)]))
  return value
}

/** `: <message>` of an error envelope, or nothing. */
function errorMessage (body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } }
    return typeof parsed.error?.message === 'string' ? `: ${parsed.error.message}` : ''
  } catch {
    // Not JSON (an empty answer): the status says it all.
    return ''
  }
}
