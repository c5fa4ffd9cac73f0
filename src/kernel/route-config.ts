import type { Role } from './roles.ts'

/**
 * Who may call a route: `open` to anyone, `control` to the owner of the emulator (see
 * auth/control-access.ts), `session` to a signed-in caller. Declared where each route is
 * registered; the route guard (auth/route-guard.ts) treats an undeclared route as `session`, so a
 * forgotten declaration fails closed.
 */
export type RouteAccess = 'open' | 'session' | 'control'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; `session` when absent. */
    access?: RouteAccess
    /** Roles allowed on this route; any signed-in role when absent. */
    roles?: readonly Role[]
    /** The route accepts a request without a body (e.g. POST /_emulator/reset). */
    bodyOptional?: boolean
  }
}
