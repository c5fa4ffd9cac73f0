import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type TObject } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { conflict, invalid, notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import type { Store } from '../kernel/store.ts'
import { ADMIN_ONLY, ALL_ROLES } from '../kernel/roles.ts'
import type { SystemServices } from './system-services.ts'
import { readSingleton } from './singleton.ts'
import { readLicense } from './license.ts'
import { nicNames } from './network-routes.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import {
  PLAIN_SERVICES, PlainService, PlainServicePatch, RTSP_SERVER, RtspService, RtspServicePatch, SERVICE_NAMES,
  ServiceList, StoredServices, WEB_SERVER, WebService, WebServicePatch, type ServiceName
} from './services-schema.ts'

export const SERVICES = 'services'
const RECORDING = 'recording'
const SERVICES_PATH = `${API_BASE}/system/services`

/** Ports the RTSP server may not take: the web server's HTTPS and HTTP, and SSH [ours]. */
const RESERVED_PORTS: Record<number, string> = { 22: 'ssh', 80: 'webserver', 443: 'webserver' }

type Patch = { name?: string, enabled?: boolean, rtsp_port?: number, data?: { listeners?: { interfaces?: string[] } } }

export function readServices (store: Store): StoredServices {
  return readSingleton(store, SERVICES, StoredServices)
}

/** A service as the API shows it: its name, its settings and a status that follows `enabled`. */
function present (stored: StoredServices, name: ServiceName): Record<string, unknown> {
  const settings = stored[name]
  return { name, ...settings, status: settings.enabled ? 'running' : 'stopped' }
}

export function registerServicesRoutes (app: FastifyInstance, services: () => SystemServices): void {
  const base = { tags: ['System'], security: [{ session: [] }] }

  app.get(SERVICES_PATH, {
    config: { roles: ALL_ROLES },
    schema: { ...base, operationId: 'listServices', summary: 'List the device services', response: { 200: ServiceList, ...errorResponses(...guardedErrors) } }
  }, async function listServices () {
    const stored = readServices(services().store)
    return { service_list: SERVICE_NAMES.map(name => ({ name, enabled: stored[name].enabled, status: stored[name].enabled ? 'running' : 'stopped' })) }
  })

  // The RTSP and web servers have settings of their own, so each gets its own routes and schemas;
  // the other services share one pair. Static paths win over `:name` in the router.
  const serviceRoutes = (path: string, operation: string, label: string, Response: TObject, Patch: TObject, nameOf: (request: FastifyRequest) => ServiceName) => {
    const params = path.endsWith(':name') ? { params: Type.Object({ name: Type.String({ description: PLAIN_SERVICES.join(', ') }) }) } : {}
    app.get(path, {
      config: { roles: ALL_ROLES },
      schema: { ...base, ...params, operationId: `get${operation}`, summary: `Read ${label}`, response: { 200: Response, ...errorResponses(...guardedErrors) } }
    }, async function getService (request: FastifyRequest) {
      return present(readServices(services().store), nameOf(request))
    })
    app.put(path, {
      config: { roles: ADMIN_ONLY },
      schema: {
        ...base, ...params, operationId: `update${operation}`, summary: `Change ${label}`,
        description: 'Merges the given fields over the stored settings. `status` is read-only.',
        body: Patch,
        response: { 200: Response, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
      }
    }, async function updateService (request: FastifyRequest) {
      const name = nameOf(request)
      const { store } = services()
      const stored = readServices(store)
      const next = { ...stored, [name]: applyPatch(store, name, stored[name], request.body as Patch) }
      if (name === RECORDING) checkRecording(services(), stored.recording.enabled, next.recording.enabled)
      assertSessionLive(request)
      await store.commit([{ op: 'set', singleton: SERVICES, value: next }])
      return present(next, name)
    })
  }
  serviceRoutes(`${SERVICES_PATH}/${RTSP_SERVER}`, 'RtspServer', 'the RTSP server', RtspService, RtspServicePatch, () => RTSP_SERVER)
  serviceRoutes(`${SERVICES_PATH}/${WEB_SERVER}`, 'WebServer', 'the web server', WebService, WebServicePatch, () => WEB_SERVER)
  serviceRoutes(`${SERVICES_PATH}/:name`, 'Service', 'a device service', PlainService, PlainServicePatch, plainName)
}

/**
 * The recording service needs the licence's Recording feature to run (kraken-api.md section 10),
 * and cannot stop under a running recording stream (stop it first) [ours].
 */
function checkRecording (s: SystemServices, was: boolean, enabled: boolean): void {
  if (enabled && !was && !readLicense(s).features.includes('Recording')) {
    throw conflict('the licence does not include the Recording feature: install one that does (PUT /apis/v2/license)', [{ field: 'enabled', message: 'Recording is not licensed' }])
  }
  const recording = s.runtime.recordingStreams()
  if (!enabled && was && recording.length > 0) {
    throw conflict(`streams are recording (${recording.join(', ')}): stop them first`, recording.map(uuid => ({ field: 'enabled', message: `stream ${uuid} is recording` })))
  }
}

function plainName (request: FastifyRequest): ServiceName {
  const name = (request.params as { name: string }).name
  if (!(PLAIN_SERVICES as readonly string[]).includes(name)) throw notFound(`service '${name}'`)
  return name as ServiceName
}

/** The rules of one service's change; returns its new stored settings. */
function applyPatch<T extends { enabled: boolean }> (store: Store, name: ServiceName, current: T, patch: Patch): T {
  if (patch.name !== undefined && patch.name !== name) throw invalid('name', `must be ${name} (the service in the path) or left out`)
  const next: Record<string, unknown> = { ...current }
  if (patch.enabled !== undefined) next.enabled = patch.enabled
  if (name === WEB_SERVER && next.enabled === false) {
    throw conflict('the webserver cannot be disabled: it serves this API', [{ field: 'enabled', message: 'the webserver cannot be disabled' }])
  }
  if (patch.rtsp_port !== undefined) {
    const user = RESERVED_PORTS[patch.rtsp_port]
    if (user !== undefined) throw conflict(`port ${patch.rtsp_port} is used by ${user}`, [{ field: 'rtsp_port', message: `is used by ${user}` }])
    next.rtsp_port = patch.rtsp_port
  }
  const interfaces = patch.data?.listeners?.interfaces
  if (interfaces !== undefined) {
    const known = nicNames(store)
    for (const [index, nic] of interfaces.entries()) {
      if (!known.includes(nic)) throw invalid(`data.listeners.interfaces.${index}`, `names no NIC of this device (${known.join(', ')})`)
    }
    next.data = { listeners: { interfaces } }
  }
  return next as T
}
