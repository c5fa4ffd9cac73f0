import type { Role } from './kernel/roles.ts'
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
}

export {}
