import { Agent, request, type Dispatcher } from 'undici'
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/start-emulator.ts'
import { requireDeviceHeaders } from './device-headers.ts'

/** A real emulator on a real HTTPS port (port 0), in memory unless told otherwise. */
export async function startHttps (options: EmulatorOptions = {}): Promise<RunningEmulator & { agent: Agent }> {
  const emulator = await startEmulator({ port: 0, inMemory: true, logLevel: 'silent', transitionMs: 0, rebootMs: 0, ...options })
  // Trust exactly this emulator's certificate rather than turning verification off.
  const agent = new Agent({ connect: { ca: emulator.certificate, servername: 'localhost' } })
  return { ...emulator, agent, close: async () => { await agent.close(); await emulator.close() } }
}

export interface HttpResult { status: number, headers: Record<string, string | string[] | undefined>, text: string, json: () => unknown }

/** One request over HTTPS; the body is sent as JSON when given. Throws when the response lacks the
 *  device's Server and HSTS headers (kraken-api.md section 1: every response carries them), so no
 *  test that goes through here can receive a response without them unnoticed. */
export async function send (emulator: { url: string, agent: Dispatcher }, method: Dispatcher.HttpMethod, path: string, options: { cookie?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.cookie !== undefined) headers.cookie = options.cookie
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await request(emulator.url + path, { method, headers, body, dispatcher: emulator.agent })
  const text = await res.body.text()
  requireDeviceHeaders(res.headers, `${method} ${path.length > 120 ? `${path.slice(0, 120)}...` : path} -> ${res.statusCode}`)
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
}

/** Logs in over HTTPS and returns `id=<session>` for the Cookie header. */
export async function loginHttps (emulator: { url: string, agent: Dispatcher }, username = 'haiadmin', password = 'krakenapi'): Promise<string> {
  const res = await send(emulator, 'POST', '/apis/v2/login', { body: { username, password } })
  if (res.status !== 204) throw new Error(`login failed: ${res.status} ${res.text}`)
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  const id = cookies.map(c => /^id=([^;]*)/.exec(c)?.[1]).find(v => v !== undefined)
  if (id === undefined) throw new Error('no id cookie')
  return `id=${id}`
}
