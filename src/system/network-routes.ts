import type { FastifyInstance, FastifyRequest } from 'fastify'
import { API_BASE } from '../kernel/define-resource.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { assertValid } from '../kernel/validator.ts'
import type { Store } from '../kernel/store.ts'
import { ADMIN_ONLY, ALL_ROLES } from '../kernel/roles.ts'
import type { SystemServices } from './system-services.ts'
import { Network, NetworkPatch } from './network-schema.ts'
import { checkNetwork, mergeNetwork } from './network-rules.ts'
import { readSingleton } from './singleton.ts'
import { assertSessionLive } from '../kernel/caller.ts'

export const NETWORK = 'network'
export const NETWORK_PATH = `${API_BASE}/system/network`

export function readNetwork (store: Store): Network {
  return readSingleton(store, NETWORK, Network)
}

/** The NIC names of the device, for the fields that must name one (inputs, outputs, webserver). */
export function nicNames (store: Store): string[] {
  return readNetwork(store).nics.map(nic => nic.name)
}

export function registerNetworkRoutes (app: FastifyInstance, services: () => SystemServices): void {
  const base = { tags: ['System'], security: [{ session: [] }] }

  app.get(NETWORK_PATH, {
    config: { roles: ALL_ROLES },
    schema: {
      ...base, operationId: 'getNetwork', summary: 'Network settings',
      response: { 200: Network, ...errorResponses(...guardedErrors) }
    }
  }, async function getNetwork () {
    return readNetwork(services().store)
  })

  app.put(NETWORK_PATH, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'updateNetwork', summary: 'Change the network settings',
      description: 'Merges the given fields over the stored settings, then validates the whole result. NICs are matched by name; ' +
        'they cannot be added or removed, and their macAddress and speed are read-only (ignored when sent).',
      body: NetworkPatch,
      response: { 200: Network, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function updateNetwork (request: FastifyRequest) {
    const { store } = services()
    const { network: next, fieldOf } = mergeNetwork(readNetwork(store), request.body as Record<string, unknown>)
    assertValid(Network, next)
    checkNetwork(next, fieldOf)
    // approximation: the settings are stored and shown; the emulator's own listener is not moved [ours].
    assertSessionLive(request)
    await store.commit([{ op: 'set', singleton: NETWORK, value: next }])
    return next
  })
}
