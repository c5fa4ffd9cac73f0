import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ALL_ROLES } from '../kernel/roles.ts'
import { itemRoute, type Resource } from '../kernel/define-resource.ts'
import { notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import type { RuntimeServices } from './runtime-types.ts'
import { profileOf } from './stream-profile.ts'
import { frameSizeOf, renderThumbnail, thumbnailSize, timecode } from './thumbnail.ts'
import { deviceLocal } from '../kernel/device-local.ts'

/** One image per stream and second of the device clock: fifty pages polling cost one render. */
interface Cached { second: number, key: string, jpeg: Buffer }

/**
 * `GET /apis/v2/streams/stream-<uuid>/thumbnail`: the device's "Download Image" of a stream, as a
 * generated test pattern (running) or a grey "no signal" frame (any other status).
 */
export function registerThumbnail (app: FastifyInstance, services: () => RuntimeServices, streams: Resource): void {
  // One per device (a fleet app serves many, with the same uuids): see kernel/device-local.ts.
  const cacheOf = deviceLocal((_s: RuntimeServices) => new Map<string, Cached>())
  // A reset may bring back other streams under the same uuids.
  services().onReset.push(() => { cacheOf(services()).clear() })

  app.get(`${itemRoute(streams)}/thumbnail`, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: [streams.tag], security: [{ session: [] }],
      operationId: 'getStreamThumbnail',
      summary: 'A still image of a stream (JPEG)',
      description: 'A running stream shows a test pattern: colour bars, its name, its resolution and a timecode (HH:MM:SS:FF) on the device clock; ' +
        'a stream in any other status a grey "no signal" frame with its status. The picture has the transcoder\'s size (the input\'s nominal ' +
        'resolution when the stream keeps the source size, 640x360 when neither says), scaled down to at most 640 px wide, aspect kept. ' +
        'At most one image is made per stream and second of the device clock; requests within that second get the same bytes [ours].',
      params: Type.Object({ [streams.paramName]: Type.String({ description: 'the stream\'s uuid' }) }),
      response: {
        200: { description: 'a baseline JPEG', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses(...guardedErrors)
      }
    }
  }, async function getStreamThumbnail (request: FastifyRequest, reply: FastifyReply) {
    const uuid = (request.params as Record<string, string>)[streams.paramName] ?? ''
    const { store, clock, runtime } = services()
    const cache = cacheOf(services())
    const stream = store.get(streams.collection, uuid)
    if (stream === undefined) throw notFound(`stream '${uuid}'`)
    const now = clock.now()
    const second = Math.floor(now / 1000)
    const { status } = runtime.state(uuid)
    const frame = frameSizeOf(store, stream)
    const name = typeof stream.name === 'string' && stream.name !== '' ? stream.name : uuid
    const running = status === 'running'
    // What the picture shows apart from the timecode: a "no signal" frame stays valid past its
    // second. Within a second the image made in it is served whatever changed (a stop shows at
    // the next second), so no request pattern makes more than one image per stream and second.
    const key = JSON.stringify([name, status, frame.width, frame.height])
    let cached = cache.get(uuid)
    if (cached === undefined || (cached.second !== second && (running || cached.key !== key))) {
      const jpeg = renderThumbnail({
        ...thumbnailSize(frame),
        name,
        resolution: `${frame.width}x${frame.height}`,
        status,
        ...(running && { timecode: timecode(now, profileOf(store, stream).fps) })
      })
      cached = { second, key, jpeg }
      cache.set(uuid, cached)
      // Deleted streams leave no image behind.
      if (cache.size > store.list(streams.collection).length) for (const id of cache.keys()) if (store.get(streams.collection, id) === undefined) cache.delete(id)
    }
    // The clock may be manual: a browser must ask again rather than guess an age.
    return reply.type('image/jpeg').header('cache-control', 'no-store').send(cached.jpeg)
  })
}
