import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { KrakenError, typeForStatus, type ErrorDetail, type ErrorType } from '../kernel/errors.ts'
import { StoreUnavailableError } from '../kernel/store.ts'
import { detailsOf } from '../kernel/validator.ts'

export interface Envelope { error: { type: ErrorType, message: string, details: ErrorDetail[] } }

export function envelope (type: ErrorType, message: string, details: ErrorDetail[] = []): Envelope {
  return { error: { type, message, details } }
}

/**
 * The one error handler: ours, Ajv's and Fastify's errors all leave in the envelope of
 * kraken-api.md section 4. A 5xx never shows its message; the log keeps it.
 */
export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler(function handleError (raised: FastifyError | KrakenError | StoreUnavailableError, request: FastifyRequest, reply: FastifyReply) {
    const error = raised instanceof StoreUnavailableError ? storeUnavailable(raised) : raised
    const shaped = shape(error)
    if (shaped.status >= 500) request.log.error({ err: raised }, 'request failed')
    if (error instanceof KrakenError) for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value)
    return reply.code(shaped.status).type('application/json; charset=utf-8').send(shaped.body)
  })
}

/** A write the store could not make durable (a full or read-only disk): nothing changed, and the
 *  same request may succeed once the disk can be written again. Reads keep working meanwhile. */
// approximation: the device's answer to a full disk is not published; a 503 tells clients to retry [ours]
function storeUnavailable (error: StoreUnavailableError): KrakenError {
  const why = error.code === 'ENOSPC' ? 'its storage is full' : error.code === 'EROFS' ? 'its storage is read-only' : 'its storage failed'
  return new KrakenError('ServiceUnavailable', `the device cannot save changes right now (${why}); nothing was changed, try again later`, [], { 'retry-after': '1' })
}

function shape (error: FastifyError | KrakenError): { status: number, body: Envelope } {
  if (error instanceof KrakenError) {
    return { status: error.statusCode, body: envelope(error.type, error.message, error.details) }
  }
  if (error.validation !== undefined) {
    const where = error.validationContext ?? 'body'
    const details = detailsOf(error.validation as Parameters<typeof detailsOf>[0])
    const first = details[0]
    const message = first === undefined ? `${where} is invalid` : `${where === 'body' ? '' : where + ' '}${first.field} ${first.message}`.trim()
    return { status: 400, body: envelope('Validation', message, details) }
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: envelope('Validation', `malformed JSON body: ${error.message}`) }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: envelope('PayloadTooLarge', 'request body is larger than 1 MiB') }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: envelope('UnsupportedMediaType', 'request body must be application/json') }
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  if (status >= 500) return { status, body: envelope(typeForStatus(status), 'internal error') }
  return { status, body: envelope(typeForStatus(status), error.message) }
}
