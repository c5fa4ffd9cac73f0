import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../kernel/clock.ts'
import type { Registry } from '../kernel/registry.ts'
import type { Store } from '../kernel/store.ts'
import type { DeviceLog } from './device-log.ts'

/** A change of a stream's live status, as the runtime reports it. */
export interface StreamTransition { uuid: string, from: string, to: string, sub_status: string }

/**
 * What firmware, logs and date and time need of the emulator (src/services.ts's Services
 * satisfies it). Declared here, below the services that wire them in, so no file of theirs
 * imports the services, the runtime or the control plane.
 */
export interface MaintenanceServices {
  store: Store
  clock: Clock
  registry: Registry
  log: FastifyBaseLogger
  deviceLog: DeviceLog
  /** Field names whose values never reach a log (passwords, passphrases). */
  secretFields: () => ReadonlySet<string>
  /** Hooks to run after a reset. */
  onReset: Array<() => void | Promise<void>>
  /** Hooks the runtime calls at every change of a stream's status. */
  onTransition: Array<(change: StreamTransition) => void>
  /** The live device: an upgrade reboots it. */
  runtime: { reboot: () => void }
}
