import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses, NoContent } from '../kernel/schemas.ts'
import { invalid } from '../kernel/errors.ts'
import { sinceMs, type RequestFilter, type RequestLog } from './request-log.ts'
import { CONTROL_PREFIX } from './request-log-hooks.ts'

export const RequestFilterQuery = Type.Object({
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,20}$', description: 'HTTP method, any case' })),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: '^/', description: 'a route template (`/apis/v2/streams/stream-{streamId}`: requests that matched that route), a glob over the path as sent (`*` within a segment, `**` across), or an exact path' })),
  status: Type.Optional(Type.String({ pattern: '^[1-5]([0-9][0-9]|xx)$', description: 'an exact status (`404`) or a class (`4xx`)' })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the user name of the session' })),
  since: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'requests that arrived at or after this time (ISO 8601, or ms since the epoch), on the emulator\'s clock' })),
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,7}$', description: 'the newest N matching requests' })),
  unmatched: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: '`true`: only requests that matched no route (404/405); `false`: only those that matched one' }))
}, { additionalProperties: false })

type FilterQuery = { [K in keyof typeof RequestFilterQuery.properties]?: string }

const RequestLogEntrySchema = Type.Object({
  seq: Type.Integer({ description: '1, 2, 3... in arrival order' }),
  time: Type.String({ description: 'arrival, on the emulator\'s clock (ISO 8601)' }),
  at: Type.Number({ description: 'the same in ms since the epoch' }),
  method: Type.String(),
  path: Type.String({ description: 'the path as sent, without the query' }),
  route: Type.Union([Type.String(), Type.Null()], { description: 'the route template it matched; null when none' }),
  query: Type.Record(Type.String(), Type.Unknown(), { description: 'secret fields masked' }),
  headers: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), { description: 'cookie values and credentials masked' }),
  body: Type.Optional(Type.Unknown({ description: 'the parsed body of a write, secrets (passwords, passphrases, write-only fields) masked as ***; a string when cut' })),
  bodyTruncated: Type.Optional(Type.Boolean({ description: 'the body was over 4096 characters of JSON: `body` is its first 4096' })),
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'null when a fault cut the connection' }),
  durationMs: Type.Number({ description: 'arrival to last byte, on the emulator\'s clock' }),
  user: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.String(), Type.Null()]),
  fault: Type.Optional(Type.Object({ id: Type.String(), action: Type.String(), delayMs: Type.Optional(Type.Integer({ description: 'the delay it drew (delay faults)' })) }, { description: 'the fault that struck it' }))
}, { additionalProperties: false })

export interface RequestLogRouteServices { requestLog: RequestLog }

const tags = ['Emulator']
const security = [{ controlToken: [] }]

/** GET/DELETE /_emulator/requests and /count: the request log, queried like WireMock's journal. */
export function registerRequestLogRoutes (app: FastifyInstance, services: () => RequestLogRouteServices): void {
  app.get(`${CONTROL_PREFIX}/requests`, {
    config: { access: 'control' },
    schema: {
      tags, security, operationId: 'emulatorRequests',
      summary: 'The requests the device received, oldest first (control route)',
      description: 'Every request to the device except /_emulator ones, with its status, duration, session user and masked body. Filters combine; `limit` keeps the newest. `dropped` counts entries the bounded log (--journal-size, --journal-bytes) has let go since the last clear.',
      querystring: RequestFilterQuery,
      response: {
        200: Type.Object({ requests: Type.Array(RequestLogEntrySchema), dropped: Type.Integer() }),
        ...errorResponses(400, 401, 403, 500)
      }
    }
  }, async function listRequests (request) {
    const log = services().requestLog
    return { requests: log.query(parseRequestFilter(request.query as FilterQuery)), dropped: log.dropped }
  })

  app.get(`${CONTROL_PREFIX}/requests/count`, {
    config: { access: 'control' },
    schema: {
      tags, security, operationId: 'emulatorRequestCount',
      summary: 'How many logged requests match the filters (control route)',
      querystring: RequestFilterQuery,
      response: { 200: Type.Object({ count: Type.Integer() }), ...errorResponses(400, 401, 403, 500) }
    }
  }, async function countRequests (request) {
    const filter = parseRequestFilter(request.query as FilterQuery)
    const count = services().requestLog.count({ ...filter, limit: undefined })
    return { count: filter.limit === undefined ? count : Math.min(count, filter.limit) }
  })

  app.delete(`${CONTROL_PREFIX}/requests`, {
    config: { access: 'control' },
    schema: {
      tags, security, operationId: 'emulatorClearRequests',
      summary: 'Empty the request log (control route)',
      response: { 204: NoContent, ...errorResponses(401, 403, 500) }
    }
  }, async function clearRequests (_request, reply) {
    services().requestLog.clear()
    return reply.code(204).send()
  })
}

/** The filter of a query string the schema has checked; `since` is read here (its field named when unreadable). */
export function parseRequestFilter (query: FilterQuery): RequestFilter {
  const filter: RequestFilter = {}
  if (query.method !== undefined) filter.method = query.method.toUpperCase()
  if (query.path !== undefined) filter.path = query.path
  if (query.status !== undefined) filter.status = query.status.toLowerCase()
  if (query.user !== undefined) filter.user = query.user
  if (query.since !== undefined) {
    if (Number.isNaN(sinceMs(query.since))) throw invalid('since', 'must be a time in ISO 8601 (2026-01-01T00:00:00Z) or ms since the epoch')
    filter.since = query.since
  }
  if (query.limit !== undefined) filter.limit = Number(query.limit)
  if (query.unmatched !== undefined) filter.unmatched = query.unmatched === 'true'
  return filter
}
