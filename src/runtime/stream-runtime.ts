import { randomInt } from 'node:crypto'
import { KrakenError } from '../kernel/errors.ts'
import type { Services } from '../services.ts'
import { readLicense } from '../system/license.ts'
import { deviceLoad, type DeviceLoad } from './device-load.ts'
import { Reboot } from './reboot.ts'
import { StreamMachine, type StreamStatus } from './stream-machine.ts'
import { sessionKindOf } from './stream-profile.ts'
import type { StreamStatistics } from './stream-statistics.ts'

export type { StreamStatus } from './stream-machine.ts'
export type { StreamStatistics } from './stream-statistics.ts'
export { registerRuntimeRoutes } from './runtime-routes.ts'
export { installRebootGate } from './reboot-gate.ts'

/** What the rest of the emulator asks of the live device (kraken-api.md sections 6 and 7). */
export interface StreamRuntime {
  /** The live status of a stream (runtime state lives in memory, never in the data file). */
  state: (uuid: string) => { status: StreamStatus, sub_status: string }
  /** True from a start request until the stream is stopped again: such a stream may not be changed or deleted. */
  isActive: (uuid: string) => boolean
  /** Grows at every status change of any stream (a cache of presented streams keys on it). */
  version: () => number
  /** Sessions in use by kind (a stream holds one from its start request until it is stopped), for GET /apis/v2/license. */
  counts: () => { transcoder: number, bypass: number }
  /** Device load that follows the running streams, for the metric snapshot (two decimals). */
  load: () => DeviceLoad
  /** Stops every stream and cancels its timers (reset, reboot, close). */
  stopAll: () => void
  /** Starts a stream (no-op when starting or running); throws 404, or 409 for the licence or a stream still stopping. */
  start: (uuid: string) => void
  /** Stops a stream (no-op when stopping or stopped); throws 404. */
  stop: (uuid: string) => void
  /** Live statistics of a stream; zeros unless running. Throws 404. */
  statistics: (uuid: string) => StreamStatistics
  /** Zeroes a stream's counters from now on; returns the statistics. Throws 404. */
  resetStatistics: (uuid: string) => StreamStatistics
  /** Starts every stream whose `auto_start` is true; one beyond the licence goes to `error`. */
  autoStart: () => void
  /** Reboots the device: sessions end, streams stop, unavailable for `--reboot-ms`, then auto-start. */
  reboot: () => void
  /** Milliseconds until a reboot ends, or undefined when the device is up. */
  rebootRemainingMs: () => number | undefined
  /** Abandons a reboot in progress (reset, close). */
  cancelReboot: () => void
}

export function createStreamRuntime (services: () => Services): StreamRuntime {
  let seed: number | undefined
  const machine = new StreamMachine({
    store: () => services().store,
    license: () => readLicense(services()),
    clock: services().clock,
    epoch: services().startedAt,
    transitionMs: () => services().config.transitionMs,
    // Without --seed each emulator draws its own, so values differ between runs but stay stable within one.
    seed: () => (seed ??= services().config.seed ?? randomInt(2 ** 31 - 1))
  })

  function autoStart (): void {
    const { store, log } = services()
    for (const stream of store.list('streams')) {
      if (stream.auto_start !== true) continue
      const uuid = String(stream.uuid)
      try {
        machine.start(uuid)
      } catch (error) {
        if (!(error instanceof KrakenError)) throw error
        // A device that boots with more auto-start streams than licences shows the rest in error.
        machine.fail(uuid, error.message, sessionKindOf(stream))
        log.warn({ stream: uuid, reason: error.message }, 'auto-start failed')
      }
    }
  }

  const reboot = new Reboot({
    clock: services().clock,
    delayMs: () => services().config.rebootMs,
    shutdown: () => {
      services().sessions.clear()
      machine.stopAll()
    },
    boot: () => {
      // A reboot restarts the device's uptime (systeminfo, metric snapshot, health).
      services().startedAt = services().clock.now()
      autoStart()
    }
  })

  return {
    state: uuid => machine.state(uuid),
    isActive: uuid => machine.isActive(uuid),
    version: () => machine.version,
    counts: () => ({ transcoder: machine.activeCount('transcoder'), bypass: machine.activeCount('bypass') }),
    load: () => deviceLoad(machine.running()),
    stopAll: () => machine.stopAll(),
    start: uuid => machine.start(uuid),
    stop: uuid => machine.stop(uuid),
    statistics: uuid => machine.statistics(uuid),
    resetStatistics: uuid => machine.resetStatistics(uuid),
    autoStart,
    reboot: () => reboot.start(),
    rebootRemainingMs: () => reboot.remainingMs(),
    cancelReboot: () => reboot.cancel()
  }
}
