// One measurement: autocannon against one server, logged in once per connection.
import autocannon, { type RequestParams, type Result } from 'autocannon'

export interface Scenario {
  name: string
  method: 'GET' | 'POST' | 'PUT'
  path: string
  /** A fresh JSON body per request (POST and PUT), or undefined. */
  body?: () => string | undefined
}

export interface Measurement {
  requests: number
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  timeouts: number
  durationS: number
  statuses: Record<string, number>
}

export interface LoadOptions {
  url: string
  /** One session cookie per connection (`id=...`). */
  cookies: readonly string[]
  durationS: number
  /** Send exactly this many requests instead of running for `durationS` (a POST scenario whose
   *  bodies each use up one free output). */
  amount?: number
}

export function measure (scenario: Scenario, options: LoadOptions): Promise<Measurement> {
  let next = 0
  const setupRequest = (request: RequestParams & { headers: Record<string, string> }, context: Record<string, unknown>): RequestParams => {
    // The context is per connection: each connection keeps the session it was given.
    context.cookie ??= options.cookies[next++ % options.cookies.length]
    const body = scenario.body?.()
    return {
      ...request,
      headers: { ...request.headers, cookie: String(context.cookie), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body })
    }
  }
  return new Promise((resolve, reject) => {
    autocannon({
      url: options.url,
      connections: options.cookies.length,
      duration: options.durationS,
      ...(options.amount === undefined ? {} : { amount: options.amount }),
      pipelining: 1,
      timeout: 10,
      requests: [{ method: scenario.method, path: scenario.path, setupRequest }]
    }, (error: Error | null, result: Result) => {
      if (error !== null) {
        reject(error)
        return
      }
      resolve(summarize(result))
    })
  })
}

function summarize (result: Result): Measurement {
  const requests = result['2xx'] + result.non2xx
  const durationS = Math.max(result.duration, 0.001)
  const statuses: Record<string, number> = {}
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statuses[status] = count
  return {
    requests,
    rps: requests / durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS,
    statuses
  }
}

/** Several interleaved rounds of one scenario on one server as one row: throughput is the mean of
 *  the rounds, p50 their median, p99 the worst (so a bad round is not averaged away). */
export function combine (rounds: readonly Measurement[]): Measurement {
  if (rounds.length === 0) throw new Error('combine: no rounds')
  const sum = (pick: (m: Measurement) => number): number => rounds.reduce((a, m) => a + pick(m), 0)
  const p50s = rounds.map(m => m.p50).sort((a, b) => a - b)
  const statuses: Record<string, number> = {}
  for (const m of rounds) for (const [s, n] of Object.entries(m.statuses)) statuses[s] = (statuses[s] ?? 0) + n
  return {
    requests: sum(m => m.requests),
    rps: sum(m => m.rps) / rounds.length,
    p50: p50s[Math.floor((p50s.length - 1) / 2)]!,
    p99: Math.max(...rounds.map(m => m.p99)),
    non2xx: sum(m => m.non2xx),
    errors: sum(m => m.errors),
    timeouts: sum(m => m.timeouts),
    durationS: sum(m => m.durationS),
    statuses
  }
}
