import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp, type AppDeps, type KrakenApp } from '../../src/app.ts'
import type { Config } from '../../src/config.ts'
import { requireDeviceHeaders } from './device-headers.ts'

export const PASSWORD = 'krakenapi'
export const USERS = { Administrator: 'haiadmin', Operator: 'operator', Viewer: 'user' } as const

/** An app on an in-memory store with the default fixture, quiet logs, instant transitions. */
export async function makeApp (config: Partial<Config> = {}, deps: AppDeps = {}): Promise<KrakenApp> {
  return buildApp({ inMemory: true, logLevel: 'silent', transitionMs: 0, rebootMs: 0, ...config }, deps)
}

/** Logs in and returns the Cookie header value carrying the session id. */
export async function login (app: KrakenApp, username: string = USERS.Administrator, password = PASSWORD): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/apis/v2/login', payload: { username, password } })
  if (res.statusCode !== 204) throw new Error(`login as ${username} failed: ${res.statusCode} ${res.body}`)
  const id = res.cookies.find(c => c.name === 'id')?.value
  if (id === undefined) throw new Error('login set no id cookie')
  return `id=${id}`
}

/** A JSON call with the given session cookie. Throws when the response lacks the device's Server
 *  and HSTS headers (kraken-api.md section 1), whatever the test itself looks at. */
export async function call (app: KrakenApp, cookie: string | undefined, method: InjectOptions['method'], url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {}
  if (cookie !== undefined) headers.cookie = cookie
  if (payload !== undefined) headers['content-type'] = 'application/json'
  const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
  requireDeviceHeaders(res.headers, `${String(method)} ${url.length > 120 ? `${url.slice(0, 120)}...` : url} -> ${res.statusCode}`)
  return res
}

/** Asserts nothing about tap; returns the parsed error envelope of a response, or throws. */
export function envelopeOf (res: LightMyRequestResponse): { type: string, message: string, details: Array<{ field: string, message: string }> } {
  const body = res.json() as { error?: { type: string, message: string, details: Array<{ field: string, message: string }> } }
  if (body.error === undefined) throw new Error(`not an error envelope: ${res.body}`)
  return body.error
}
