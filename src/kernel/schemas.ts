import { Type, type TSchema } from 'typebox'

/** Shared schema parts: every resource and hand-written route takes them from here. */

export const Uuid = Type.String({ format: 'uuid', description: 'UUID v4 assigned by the device' })

export const ErrorDetailSchema = Type.Object({
  field: Type.String({ description: 'the field (dotted path) or object at fault' }),
  message: Type.String()
}, { additionalProperties: false })

export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    type: Type.String({ description: 'Validation, SessionAuthentication, SessionAuthorization, NotFound, MethodNotAllowed, RequestTimeout, Conflict, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, RequestHeaderFieldsTooLarge, ServiceUnavailable, Internal; on /_emulator routes also ControlAuthentication, ControlAuthorization' }),
    message: Type.String(),
    details: Type.Array(ErrorDetailSchema)
  }, { additionalProperties: false })
}, { additionalProperties: false, $id: 'ErrorEnvelope', description: 'Every error has this envelope.' })

export const ErrorRef = Type.Ref('ErrorEnvelope')

/** The response schemas of the errors a route can produce, for the OpenAPI document. */
export function errorResponses (...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {}
  for (const status of statuses) out[status] = ErrorRef
  return out
}

/** Errors every session-guarded route can answer. */
export const guardedErrors = [401, 403, 404, 500, 503]

export const NoContent = Type.Null({ description: 'No Content' })

/** The `{"<singular>_list": [...]}` wrapper of a collection. */
export function listOf (singular: string, item: TSchema) {
  return Type.Object({ [`${singular}_list`]: Type.Array(item) }, { additionalProperties: false })
}
