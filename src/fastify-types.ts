import type { Role } from './auth/roles.ts'
import type { Session } from './auth/sessions.ts'
import type { Services } from './services.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The emulator's services (store, sessions, runtime, ...), one set per app. */
    kraken: Services
  }
  interface FastifyContextConfig {
    /** Roles allowed on this route; any signed-in role when absent. */
    roles?: readonly Role[]
    /** The route accepts a request without a body (e.g. POST /_emulator/reset). */
    bodyOptional?: boolean
  }
  interface FastifyRequest {
    /** The caller's session, set by the session guard on /apis/v2 routes. */
    session?: Session
  }
}

export {}
