import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config.ts'
import type { Clock, DeviceClock } from './kernel/clock.ts'
import type { Registry } from './kernel/registry.ts'
import type { Db, Store } from './kernel/store.ts'
import type { SessionStore } from './auth/sessions.ts'
import type { Lockout } from './auth/lockout.ts'
import type { StreamRuntime } from './runtime/stream-runtime.ts'
import type { RouteIndex } from './plugins/route-index.ts'
import type { ControlAccess } from './auth/control-access.ts'
import type { ServedCertificate } from './tls/served-certificate.ts'
import type { RequestLog } from './control/request-log.ts'
import type { Faults } from './control/faults.ts'
import type { ScenarioPlayer } from './control/scenario-player.ts'
import type { DeviceLog, StreamTransition } from './system/maintenance.ts'

/**
 * What the routes of one emulator share. Each app has its own (nothing is module-global), so
 * many emulators in one process never see each other's state.
 */
export interface Services {
  config: Config
  clock: Clock
  /** The same clock when it can be moved (/_emulator/clock); undefined when the host supplied a plain Clock. */
  deviceClock: DeviceClock | undefined
  registry: Registry
  store: Store
  sessions: SessionStore
  lockout: Lockout
  runtime: StreamRuntime
  /** Every route of the app, with its roles (filled while routes register). */
  routes: RouteIndex
  /** Who may use the /_emulator control routes (the control token, if any). */
  control: ControlAccess
  /** Every request to the device, bounded (GET /_emulator/requests); a reset clears it. */
  requestLog: RequestLog
  /** The HTTP faults in force (POST /_emulator/faults); a reset clears them. */
  faults: Faults
  /** The scripted timeline playing on the device clock (POST /_emulator/scenarios); status() and subscribe() for the live page. */
  scenarios: ScenarioPlayer
  log: FastifyBaseLogger
  /** Restores a fixture (the active one by default), ends every session; resolves once durable. */
  reset: (fixture?: string) => Promise<void>
  /** Emulator start time (ms), for uptime. */
  startedAt: number
  /** Device conditions (a NIC down) that keep a stream from running; set by src/control/. */
  hold?: (uuid: string) => { reason: string, cause: string } | undefined
  /** Hooks other parts (the runtime) add to run after a reset. */
  onReset: Array<() => void | Promise<void>>
  /** Hooks run when a reboot boots, before auto-start (the start-up preset, src/admin/). */
  onBoot: Array<() => void>
  /** Today's rules for a whole Db (src/check-db.ts): throws an Error naming the first problem. */
  checkDb: (db: Db) => void
  /** The certificate the HTTPS port serves now; an Administrator may switch it (src/admin/). */
  tls: ServedCertificate
  /** The device's system and stream logs (GET /apis/v2/system/log); a reset clears them. */
  deviceLog: DeviceLog
  /** Field names whose values never reach a log (the request log's secrets). */
  secretFields: () => ReadonlySet<string>
  /** Hooks the runtime calls at every change of a stream's status (the device log). */
  onTransition: Array<(change: StreamTransition) => void>
}
