import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { KrakenError } from '../kernel/errors.ts'
import type { RouteIndex } from './route-index.ts'

export const HSTS = 'max-age=31536000; includeSubDomains'

/**
 * The transport rules of kraken-api.md section 1: the device's nginx headers on every response,
 * one JSON content type, 415 for non-JSON writes, and 404/405 in the envelope.
 */
export function installTransport (app: FastifyInstance, routes: RouteIndex): void {
  app.addHook('onRequest', async function deviceHeaders (_request, reply) {
    void reply.header('server', 'nginx')
    void reply.header('strict-transport-security', HSTS)
  })

  // Clients that always send `Content-Type: application/json` do so on body-less calls too
  // (logout, start, stop): an empty JSON body is no body, not malformed JSON. Prototype
  // poisoning keys are still refused, as by Fastify's own parser.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function jsonOrNothing (request, body, done) {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined)
      return
    }
    parseJson(request, body as string, done)
  })

  // Fastify only refuses a body it cannot parse; a write that declares a body schema must also
  // *say* it is JSON, even when empty (kraken-api.md section 1).
  app.addHook('preValidation', async function requireJson (request: FastifyRequest) {
    if (request.routeOptions.schema?.body === undefined) return
    const length = request.headers['content-length']
    const hasBody = (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
    if (!hasBody && request.routeOptions.config.bodyOptional === true) return
    const type = request.headers['content-type']
    if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) {
      throw new KrakenError('UnsupportedMediaType', 'request body must be sent as Content-Type: application/json')
    }
  })

  app.setNotFoundHandler(async function notFoundOrNotAllowed (request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = routes.allowed(path)
    if (allowed.length > 0) {
      throw new KrakenError('MethodNotAllowed', `${request.method} is not allowed on ${path}`, [], { allow: allowed.join(', ') })
    }
    return reply.code(404).type('application/json; charset=utf-8').send({ error: { type: 'NotFound', message: `no such path: ${path}`, details: [] } })
  })
}
