import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ADMIN_ONLY, ALL_ROLES, MEDIA_WRITERS } from '../kernel/roles.ts'
import { API_BASE, itemRoute, type Resource } from '../kernel/define-resource.ts'
import { notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors, NoContent } from '../kernel/schemas.ts'
import type { Item } from '../kernel/store.ts'
import type { RuntimeServices } from './runtime-types.ts'
import { StreamStatistics } from './stream-statistics.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import { registerThumbnail } from './thumbnail-route.ts'

const security = [{ session: [] }]

/**
 * Stream actions and statistics (kraken-api.md section 6), the reboot, and the runtime's part of
 * the app's life: auto-start when the app is ready and after a reset, no reboot left behind on close.
 */
export function registerRuntimeRoutes (app: FastifyInstance, services: () => RuntimeServices): void {
  const streams = services().registry.top('streams')
  // An app whose registry has no streams (a kernel test) still gets the reboot.
  if (streams !== undefined) registerStreamActions(app, services, streams)
  if (streams !== undefined) registerThumbnail(app, services, streams)
  registerReboot(app, services)

  app.addHook('onReady', async function autoStartStreams () {
    services().runtime.autoStart()
  })
  // A reset restores a fixture as a preset load does, and a preset load starts auto_start streams [docs].
  services().onReset.push(() => {
    const { runtime } = services()
    runtime.cancelReboot()
    runtime.autoStart()
  })
  app.addHook('onClose', async function cancelReboot () {
    services().runtime.cancelReboot()
  })
}

function registerStreamActions (app: FastifyInstance, services: () => RuntimeServices, streams: Resource): void {
  const route = itemRoute(streams)
  const Params = Type.Object({ [streams.paramName]: Type.String({ description: 'the stream\'s uuid' }) })
  const idOf = (request: FastifyRequest): string => (request.params as Record<string, string>)[streams.paramName] ?? ''
  const base = { tags: [streams.tag], security, params: Params }

  /** The stream as every other route returns it, with its live status. */
  function presented (request: FastifyRequest, uuid: string): Item {
    const stored = services().store.get(streams.collection, uuid)
    if (stored === undefined) throw notFound(`stream '${uuid}'`)
    const live = { ...stored, ...services().runtime.state(uuid) }
    return streams.spec.present?.(request, live) ?? live
  }

  for (const [action, verb] of [['start', 'Start'], ['stop', 'Stop']] as const) {
    const description = action === 'start'
      ? 'stopped -> starting -> running, each step taking the transition time. A no-op on a starting or running stream. ' +
        'A transcoding stream needs a free licensed encoder session (409 otherwise); a stopping stream cannot be started (409).'
      : 'running -> stopping -> stopped, each step taking the transition time; a start in progress is aborted. ' +
        'A no-op on a stopping or stopped stream; a stream in error goes straight to stopped.'
    for (const method of ['PUT', 'POST'] as const) {
      app.route({
        method,
        url: `${route}/${action}`,
        config: { roles: MEDIA_WRITERS },
        schema: {
          ...base,
          operationId: `${action}Stream${method === 'POST' ? 'Post' : ''}`,
          summary: `${verb} a stream (${method})`,
          description: `${description} Answers with the stream and its live status.`,
          response: { 200: streams.schemas.Response, ...errorResponses(409, ...guardedErrors) }
        },
        handler: async function streamAction (request: FastifyRequest) {
          const uuid = idOf(request)
          const { runtime } = services()
          assertSessionLive(request)
          if (action === 'start') runtime.start(uuid)
          else runtime.stop(uuid)
          return presented(request, uuid)
        }
      })
    }
  }

  app.get(`${route}/statistics`, {
    config: { roles: ALL_ROLES },
    schema: {
      ...base,
      operationId: 'getStreamStatistics',
      summary: 'Live statistics of a stream',
      response: { 200: StreamStatistics, ...errorResponses(...guardedErrors) }
    }
  }, async function getStreamStatistics (request: FastifyRequest) {
    return services().runtime.statistics(idOf(request))
  })

  for (const method of ['PUT', 'POST'] as const) {
    app.route({
      method,
      url: `${route}/statistics/reset`,
      config: { roles: MEDIA_WRITERS },
      schema: {
        ...base,
        operationId: `resetStreamStatistics${method === 'POST' ? 'Post' : ''}`,
        summary: `Zero a stream's statistics counters (${method})`,
        description: 'Counters (packets, bytes, losses, frames) restart from 0; rates, uptime and resolution are live values and stay. Answers with the statistics.',
        response: { 200: StreamStatistics, ...errorResponses(...guardedErrors) }
      },
      handler: async function resetStreamStatistics (request: FastifyRequest) {
        assertSessionLive(request)
        return services().runtime.resetStatistics(idOf(request))
      }
    })
  }
}

function registerReboot (app: FastifyInstance, services: () => RuntimeServices): void {
  app.post(`${API_BASE}/system/reboot`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      tags: ['System'],
      operationId: 'rebootSystem',
      summary: 'Reboot the device',
      description: 'Every session ends and every stream stops; the API answers 503 (with Retry-After) for the reboot delay, ' +
        'then streams with auto_start start again.',
      security,
      response: { 204: NoContent, ...errorResponses(...guardedErrors) }
    }
  }, async function rebootSystem (request: FastifyRequest, reply: FastifyReply) {
    assertSessionLive(request)
    services().runtime.reboot()
    return reply.code(204).send()
  })
}
