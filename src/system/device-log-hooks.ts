import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { API_BASE, itemRoute } from '../kernel/define-resource.ts'
import { KrakenError } from '../kernel/errors.ts'
import { isDeviceRequest } from '../kernel/route-scope.ts'
import type { MaintenanceServices, StreamTransition } from './maintenance-services.ts'

const LOGIN = `${API_BASE}/login`
const LOGOUT = `${API_BASE}/logout`
const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Writes what the device's log would say: every login (and failed one), logout, change to the
 * configuration (any write to /apis/v2) and refused write, and every change of a stream's status.
 * Only names, paths, statuses and error messages reach it, never a body: the values of secret
 * fields (passwords, passphrases) are masked even where an error message would quote them, and
 * session ids travel in cookies, which are never read here.
 */
export function installDeviceLog (app: FastifyInstance, services: () => MaintenanceServices): void {
  const errors = new WeakMap<FastifyRequest, { type: string, message: string }>()
  const streams = services().registry.top('streams')
  const streamRoute = streams === undefined ? undefined : itemRoute(streams)

  app.addHook('onError', async function rememberError (request: FastifyRequest, _reply: FastifyReply, error: Error) {
    const type = error instanceof KrakenError ? error.type : 'Error'
    errors.set(request, { type, message: error.message })
  })

  app.addHook('onResponse', async function writeDeviceLog (request: FastifyRequest, reply: FastifyReply) {
    // Reads are the hot path and log nothing but a logout: out before anything costs (routeOptions is built at each read).
    if (READS.has(request.method) && !/logout/i.test(request.url)) return
    if (!isDeviceRequest(request)) return
    const s = services()
    const status = reply.statusCode
    const template = request.is404 ? undefined : request.routeOptions.url
    const from = request.ip
    if (template === LOGIN && request.method === 'POST') {
      const name = usernameOf(request.body)
      if (status === 204) {
        const role = s.store.get('accounts', name)?.role
        s.deviceLog.write('auth', `login '${name}'${typeof role === 'string' ? ` (${role})` : ''} from ${from}`)
      } else {
        const type = errors.get(request)?.type
        s.deviceLog.write('auth', `login failed for '${name}' from ${from}: ${status}${type === undefined ? '' : ` ${type}`}`)
      }
      return
    }
    if (template === LOGOUT) {
      s.deviceLog.write('auth', `logout from ${from}`)
      return
    }
    if (READS.has(request.method)) return
    const user = request.session?.username ?? '-'
    const path = request.url.split('?')[0] ?? ''
    let line: string
    let facility: string
    if (status < 400) {
      facility = 'config'
      line = `${user} ${request.method} ${path}: ${status}`
    } else {
      facility = 'error'
      const error = errors.get(request)
      // A 5xx's message is masked for the client; the log says as much and no more.
      const message = error === undefined || status >= 500 ? '' : `: ${mask(error.message, secretValues(request.body, s.secretFields()))}`
      // A 503 of the reboot gate is sent, not thrown: it has no error type here.
      line = `${user} ${request.method} ${path}: ${status}${error === undefined ? '' : ` ${error.type}`}${message}`
    }
    s.deviceLog.write(facility, line)
    // The stream's own log: changes to the stream (and its outputs), while its log_to_file is on.
    if (streams !== undefined && template?.startsWith(streamRoute ?? '') === true) {
      const uuid = (request.params as Record<string, string> | undefined)?.[streams.paramName]
      if (uuid === undefined) return
      if (request.method === 'DELETE' && status < 300 && template === streamRoute) {
        s.deviceLog.dropStream(uuid)
        return
      }
      if (logsToFile(s, uuid)) s.deviceLog.writeStream(uuid, facility, line)
    }
  })

  services().onTransition.push((change: StreamTransition) => {
    const s = services()
    const stream = s.store.get('streams', change.uuid)
    const name = typeof stream?.name === 'string' ? stream.name : ''
    const why = change.sub_status === '' ? '' : ` (${change.sub_status})`
    const line = `${change.from} -> ${change.to}${why}`
    s.deviceLog.write(change.to === 'error' ? 'error' : 'stream', `stream '${name}' ${change.uuid}: ${line}`)
    if (logsToFile(s, change.uuid)) s.deviceLog.writeStream(change.uuid, change.to === 'error' ? 'error' : 'stream', line)
  })

  services().onReset.push(() => services().deviceLog.clear())
}

function logsToFile (s: MaintenanceServices, uuid: string): boolean {
  const stream = s.store.get('streams', uuid)
  return stream !== undefined && stream.log_to_file !== false
}

function usernameOf (body: unknown): string {
  const name = (body as { username?: unknown } | undefined)?.username
  return typeof name === 'string' ? name.slice(0, 64) : ''
}

/** The string values of every secret field of a body, at any depth. */
function secretValues (body: unknown, secrets: ReadonlySet<string>, depth = 0, out: string[] = []): string[] {
  if (body === null || typeof body !== 'object' || depth > 32) return out
  for (const [key, value] of Object.entries(body)) {
    if (secrets.has(key) && typeof value === 'string' && value !== '') out.push(value)
    else secretValues(value, secrets, depth + 1, out)
  }
  return out
}

function mask (text: string, values: readonly string[]): string {
  let out = text
  for (const value of values) out = out.split(value).join('***')
  return out
}
