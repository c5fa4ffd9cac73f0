import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../kernel/clock.ts'
import type { Registry } from '../kernel/registry.ts'
import type { Db, Store } from '../kernel/store.ts'

/**
 * What the administration endpoints (presets, certificates) need of the emulator; src/services.ts's
 * Services satisfies it. Declared here, below the services that wire admin/ in, so no admin file
 * imports them, the runtime or the composition's checkDb.
 */
export interface AdminServices {
  store: Store
  registry: Registry
  clock: Clock
  log: FastifyBaseLogger
  /** Today's rules for a whole Db (src/check-db.ts): throws an Error naming the first problem. */
  checkDb: (db: Db) => void
  /** The live device: a preset load stops every stream, then starts the auto_start ones. */
  runtime: { stopAll: () => void, autoStart: () => void }
  /** Hooks run when a reboot boots, before auto-start (the start-up preset is applied there). */
  onBoot: Array<() => void>
  /** Hooks to run after a reset. */
  onReset: Array<() => void | Promise<void>>
  /** The certificate the HTTPS port serves (src/tls/served-certificate.ts). */
  tls: {
    /** The pair the emulator started with (generated, certs/, or --cert/--key); undefined without HTTPS. */
    readonly startup: { cert: string, key: string } | undefined
    /** --cert/--key were given: they win over a choice made through the API. */
    readonly pinned: boolean
    /** Serves the pair to new connections from now on (open ones continue). */
    serve: (pair: { cert: string, key: string }) => void
  }
}
