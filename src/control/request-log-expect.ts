import { compileMatcher } from './request-match.ts'
import { compileFilter, type RequestFilter, type RequestLog, type RequestLogEntry } from './request-log.ts'

/** What `expectRequest` checks: exactly `times` matching requests, or at least one when absent. */
export interface ExpectOptions { times?: number }

/** Thrown by `expectRequest` when the log does not hold what was expected. */
export class RequestExpectationError extends Error {
  readonly filter: RequestFilter
  readonly found: number
  readonly nearest: readonly RequestLogEntry[]

  constructor (message: string, filter: RequestFilter, found: number, nearest: readonly RequestLogEntry[]) {
    super(message)
    this.name = 'RequestExpectationError'
    this.filter = filter
    this.found = found
    this.nearest = nearest
  }
}

/** The typed side of the log for startEmulator()'s handle. */
export interface RequestLogHandle {
  /** The logged requests matching `filter`, oldest first (see GET /_emulator/requests). */
  requests: (filter?: RequestFilter) => RequestLogEntry[]
  /**
   * Throws a RequestExpectationError unless the log holds exactly `times` requests matching
   * `filter` (at least one without `times`); its message lists the nearest requests. Returns the matches.
   */
  expectRequest: (filter: RequestFilter, options?: ExpectOptions) => RequestLogEntry[]
}

export function requestLogHandle (log: () => RequestLog): RequestLogHandle {
  return {
    requests: (filter = {}) => log().query(filter),
    expectRequest: (filter, options = {}) => expectRequest(log(), filter, options)
  }
}

export function expectRequest (log: RequestLog, filter: RequestFilter, options: ExpectOptions = {}): RequestLogEntry[] {
  const matches = log.query(filter)
  const ok = options.times === undefined ? matches.length > 0 : matches.length === options.times
  if (ok) return matches
  const wanted = options.times === undefined ? 'at least 1 request' : `${options.times} request${options.times === 1 ? '' : 's'}`
  const nearest = nearestRequests(log.all(), filter, 5)
  const lines = [
    `expected ${wanted} matching ${describeFilter(filter)}, found ${matches.length}` + (log.size === 0 ? ' (the request log is empty)' : ` among ${log.size} logged`),
    ...(matches.length > 0 ? ['matching:', ...matches.slice(-5).map(describeEntry)] : []),
    ...(nearest.length > 0 ? ['nearest requests:', ...nearest.map(describeEntry)] : [])
  ]
  throw new RequestExpectationError(lines.join('\n'), filter, matches.length, nearest)
}

/**
 * The entries closest to a filter: scored by the parts of it each satisfies (the path counting
 * most, then the method, then the rest), newest first among equals. Exact matches are left out.
 */
export function nearestRequests (entries: readonly RequestLogEntry[], filter: RequestFilter, count: number): RequestLogEntry[] {
  const exact = compileFilter(filter)
  const parts: Array<[number, (e: RequestLogEntry) => boolean]> = []
  if (filter.path !== undefined) {
    const path = compileMatcher({ path: filter.path })
    const prefix = filter.path.split(/[{*]/)[0] ?? ''
    parts.push([4, path], [2, e => prefix.length > 1 && (e.path.startsWith(prefix) || (e.route ?? '').startsWith(prefix))])
  }
  if (filter.method !== undefined) { const m = filter.method.toUpperCase(); parts.push([3, e => e.method === m]) }
  for (const key of ['status', 'user', 'since', 'unmatched'] as const) {
    if (filter[key] !== undefined) { const one = compileFilter({ [key]: filter[key] }); parts.push([1, one]) }
  }
  const scored = entries.filter(e => !exact(e)).map(e => ({ e, score: parts.reduce((sum, [weight, test]) => sum + (test(e) ? weight : 0), 0) }))
  scored.sort((a, b) => b.score - a.score || b.e.seq - a.e.seq)
  return scored.slice(0, count).map(s => s.e)
}

function describeFilter (filter: RequestFilter): string {
  const parts = Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v instanceof Date ? v.toISOString() : v)}`)
  return parts.length === 0 ? 'any request' : `{ ${parts.join(', ')} }`
}

function describeEntry (e: RequestLogEntry): string {
  const who = e.user === null ? 'no session' : `${e.user}`
  const answer = e.status === null ? 'no answer' : String(e.status)
  const fault = e.fault === undefined ? '' : ` [${e.fault.id}: ${e.fault.action}]`
  return `  #${e.seq} ${e.time} ${e.method} ${e.path} -> ${answer} (${who}${e.route === null ? ', no route' : ''})${fault}`
}
