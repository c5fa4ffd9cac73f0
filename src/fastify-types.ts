import type { Services } from './services.ts'

// The route config (access, roles) is declared by the kernel (kernel/route-config.ts) and the
// caller by kernel/caller.ts: the layers below need them. Only what the composition adds is here.
declare module 'fastify' {
  interface FastifyInstance {
    /** The emulator's services (store, sessions, runtime, ...), one set per app. */
    kraken: Services
  }
}
