import type { Role } from './auth/roles.ts'
import type { Session } from './auth/sessions.ts'
import type { Services } from './services.ts'

export type RouteAccess = 'open' | 'session' | 'control'

declare module 'fastify' {
  interface FastifyInstance {
    /** The emulator's services (store, sessions, runtime, ...), one set per app. */
    kraken: Services
  }
  interface FastifyContextConfig {
    /**
     * Who may call the route (see auth/route-guard.ts): `open` to anyone, `control` to the owner of
     * the emulator, `session` to a signed-in caller (the default when absent: fail closed).
     */
    access?: RouteAccess
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

