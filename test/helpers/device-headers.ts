// The device's nginx headers (kraken-api.md section 1): every response carries `Server: nginx`
// and HSTS, whatever produced it (a route, a hook, the error handler, the router's own errors,
// the reboot gate, the HTTP parser). One check, used by the fuzzers, the transport test and the
// request helpers, so that a path which forgets them cannot go unnoticed.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { HSTS } from '../../src/plugins/transport.ts'

export { HSTS }
export const SERVER = 'nginx'

/** Header maps as undici, light-my-request and node:http hand them out (lower-case names). */
export type AnyHeaders = IncomingHttpHeaders | OutgoingHttpHeaders | Record<string, string | string[] | number | undefined>

/** What is wrong with a response's device headers; empty when both are there, once, exact. */
export function deviceHeaderProblems (headers: AnyHeaders): string[] {
  const problems: string[] = []
  for (const [name, wanted] of [['server', SERVER], ['strict-transport-security', HSTS]] as const) {
    const value = headers[name]
    if (value === undefined) problems.push(`no ${name} header`)
    else if (Array.isArray(value)) problems.push(`${name} sent ${value.length} times: ${value.join(' | ')}`)
    else if (String(value) !== wanted) problems.push(`${name}: ${String(value)} (wanted ${wanted})`)
  }
  return problems
}

/** The header map of a raw HTTP/1.1 response head (status line first), for a response read off a
 *  socket: names lower-cased, a repeated header as an array, as node:http hands them out. */
export function headersOfHead (head: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    const seen = headers[name]
    headers[name] = seen === undefined ? value : [...([] as string[]).concat(seen), value]
  }
  return headers
}

/** Throws when the device headers are missing or wrong: for helpers that have no `t`. */
export function requireDeviceHeaders (headers: AnyHeaders, what: string): void {
  const problems = deviceHeaderProblems(headers)
  if (problems.length > 0) throw new Error(`${what}: not the device's headers (${problems.join('; ')})`)
}

interface Asserts { same: (found: unknown, wanted: unknown, message: string) => unknown }

/** One assertion per response: the device headers are there, once, with the device's values. */
export function assertDeviceHeaders (t: Asserts, headers: AnyHeaders, what: string): void {
  t.same(deviceHeaderProblems(headers), [], `${what}: Server: ${SERVER} and HSTS`)
}
