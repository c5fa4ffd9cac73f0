import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { KrakenError } from '../kernel/errors.ts'

export const CONTROL_TOKEN_HEADER = 'x-kraken-control-token'

export interface ControlAccess {
  /** The token the control routes require; undefined: they need none (loopback, or `off`). */
  token: string | undefined
  /** The token was generated at start (so the ready line must show it). */
  generated: boolean
  /** One line each, for the CLI's stderr and startEmulator's `warnings`. */
  warnings: string[]
}

/**
 * Who may drive /_emulator: on loopback anyone on the machine (as before: a CI job resets from
 * any language without setup); on any other address only the holder of the control token, which
 * is generated when none is given. A given token is required wherever the emulator listens;
 * `off` opens the routes on purpose, with a warning.
 */
export function resolveControlAccess (host: string, configured: string | undefined): ControlAccess {
  if (configured === 'off') {
    const warnings = isLoopback(host) ? [] : [`--control-token off: anyone who reaches ${host} can reset the device and end every session`]
    return { token: undefined, generated: false, warnings }
  }
  if (configured !== undefined) return { token: configured, generated: false, warnings: [] }
  if (isLoopback(host)) return { token: undefined, generated: false, warnings: [] }
  return { token: randomBytes(24).toString('base64url'), generated: true, warnings: [] }
}

export function isLoopback (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
}

/**
 * The control guard. A browser page on another origin can send a "simple" POST (no preflight)
 * to /_emulator/reset; browsers mark such requests with `Origin` and `Sec-Fetch-Site`, so any
 * request that says it comes from elsewhere is refused, token or not.
 */
export function checkControlRequest (request: FastifyRequest, token: string | undefined): void {
  const site = request.headers['sec-fetch-site']
  if (site === 'cross-site' || site === 'same-site') {
    throw new KrakenError('ControlAuthorization', 'the control routes refuse requests from another site')
  }
  const origin = request.headers.origin
  if (origin !== undefined && origin.toLowerCase() !== `${request.protocol}://${String(request.headers.host ?? '')}`.toLowerCase()) {
    throw new KrakenError('ControlAuthorization', 'the control routes refuse requests from another origin')
  }
  if (token === undefined) return
  const given = request.headers[CONTROL_TOKEN_HEADER]
  if (typeof given !== 'string' || !sameSecret(given, token)) {
    throw new KrakenError('ControlAuthentication', `the control routes need the control token in the ${CONTROL_TOKEN_HEADER} header`)
  }
}

function sameSecret (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
