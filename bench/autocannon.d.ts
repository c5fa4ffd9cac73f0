// The part of autocannon 9's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface RequestParams {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }
  export interface Request extends RequestParams {
    setupRequest?: (request: RequestParams & { headers: Record<string, string> }, context: Record<string, unknown>) => RequestParams | null
  }
  export interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    pipelining?: number
    timeout?: number
    requests?: Request[]
    headers?: Record<string, string>
    initialContext?: Record<string, unknown>
  }
  export interface Histogram { average: number, mean: number, stddev: number, min: number, max: number, total: number, p50: number, p90: number, p97_5: number, p99: number }
  export interface Result {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    '4xx': number
    '5xx': number
    latency: Histogram
    requests: Histogram
    throughput: Histogram
    statusCodeStats: Record<string, { count: number }>
  }
  export interface Instance extends EventEmitter {
    stop: () => void
  }
  function autocannon (options: Options, callback: (error: Error | null, result: Result) => void): Instance
  export default autocannon
}
