import type { IncomingHttpHeaders } from 'node:http'
import type { Registry } from '../kernel/registry.ts'

export const MASK = '***'

/** Fields that are always secrets, whatever the schemas say (login and password-change bodies). */
const ALWAYS_SECRET = ['password', 'current_password', 'new_password', 'srt_passphrase']

/** Headers whose whole value is a secret. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-kraken-control-token'])

/** Every field name a body may carry that the log must not keep: the fixed ones and every write-only field of a resource. */
export function secretFields (registry: Registry): ReadonlySet<string> {
  return new Set([...ALWAYS_SECRET, ...registry.resources.flatMap(r => r.spec.writeOnly ?? [])])
}

/**
 * Deeper than this, a body's content is not copied but replaced by DEEP: no Kraken body nests more
 * than a few levels, and a hostile one nested 100,000 deep must not exhaust the stack (a 500).
 */
export const MAX_DEPTH = 32
export const DEEP = '[nested too deep for the log]'

/** A copy of a parsed body with the value of every secret field, at any depth, replaced by the mask. */
export function maskBody (value: unknown, secrets: ReadonlySet<string>, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return DEEP
  if (Array.isArray(value)) return value.map(v => maskBody(v, secrets, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) out[key] = secrets.has(key) ? MASK : maskBody(v, secrets, depth + 1)
  return out
}

/**
 * A copy of the request headers with cookie values (the session id) and credentials masked. The
 * cookie names stay, so a test can still see that a client sent its `id` cookie.
 */
export function maskHeaders (headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (SECRET_HEADERS.has(name)) out[name] = MASK
    else if (name === 'cookie') out[name] = Array.isArray(value) ? value.map(maskCookie) : maskCookie(value)
    else out[name] = value
  }
  return out
}

function maskCookie (header: string): string {
  return header.replace(/=[^;]*/g, `=${MASK}`)
}
