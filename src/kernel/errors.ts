/**
 * The one table of error types. Every error the emulator sends, from any layer, is shaped into
 * `{"error": {"type", "message", "details"}}` with the status this table gives its type.
 * kraken-api.md section 4 [ours, in the shape of sibling Haivision appliances].
 */
export const errorStatus = {
  Validation: 400,
  SessionAuthentication: 401,
  SessionAuthorization: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  RequestTimeout: 408,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  RequestHeaderFieldsTooLarge: 431,
  Internal: 500,
  ServiceUnavailable: 503,
  // The emulator's control routes (/_emulator), not the device's sessions; listed after the
  // device's types so that a bare 401/403 still maps to those.
  ControlAuthentication: 401,
  ControlAuthorization: 403
} as const

export type ErrorType = keyof typeof errorStatus

export interface ErrorDetail { field: string, message: string }

/** The type a bare HTTP status maps to, for errors raised by Fastify or its plugins. */
export function typeForStatus (status: number): ErrorType {
  for (const [type, code] of Object.entries(errorStatus) as Array<[ErrorType, number]>) {
    if (code === status) return type
  }
  return status >= 500 ? 'Internal' : 'Validation'
}

export class KrakenError extends Error {
  readonly type: ErrorType
  readonly statusCode: number
  readonly details: ErrorDetail[]
  readonly headers: Record<string, string>

  constructor (type: ErrorType, message: string, details: ErrorDetail[] = [], headers: Record<string, string> = {}) {
    super(message)
    this.name = 'KrakenError'
    this.type = type
    this.statusCode = errorStatus[type]
    this.details = details
    this.headers = headers
  }
}

export const notFound = (what = 'resource'): KrakenError => new KrakenError('NotFound', `${what} not found`)
export const conflict = (message: string, details: ErrorDetail[] = []): KrakenError => new KrakenError('Conflict', message, details)
export const invalid = (field: string, message: string): KrakenError =>
  new KrakenError('Validation', `${field} ${message}`, [{ field, message }])
export const unauthenticated = (message = 'a valid session is required'): KrakenError => new KrakenError('SessionAuthentication', message)
export const forbidden = (message = 'your role may not do this'): KrakenError => new KrakenError('SessionAuthorization', message)
