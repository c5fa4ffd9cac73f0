import { randomInt } from 'node:crypto'
import { KrakenError } from '../kernel/errors.ts'
import { deviceLoad } from './device-load.ts'
import type { LicenseView } from './license.ts'
import { Reboot } from './reboot.ts'
import type { RuntimeServices, StreamRuntime } from './runtime-types.ts'
import { StreamMachine, type StreamStatus } from './stream-machine.ts'
import { sessionKindOf } from './stream-profile.ts'

export type { StreamStatus } from './stream-machine.ts'
export type { StreamStatistics } from './stream-statistics.ts'
export type { RuntimeServices, StreamRuntime } from './runtime-types.ts'
export { registerRuntimeRoutes } from './runtime-routes.ts'
export { installRebootGate } from './reboot-gate.ts'

/** The live device; `license` reads the licence (src/system/license.ts's readLicense, wired by the app). */
export function createStreamRuntime (services: () => RuntimeServices, license: () => LicenseView): StreamRuntime {
  let seed: number | undefined
  const machine = new StreamMachine({
    store: () => services().store,
    license,
    clock: services().clock,
    epoch: services().startedAt,
    transitionMs: () => services().config.transitionMs,
    // Without --seed each emulator draws its own, so values differ between runs but stay stable within one.
    seed: () => (seed ??= services().config.seed ?? randomInt(2 ** 31 - 1)),
    hold: uuid => services().hold?.(uuid),
    onChange: () => reportTransitions()
  })

  /** The last status told to onTransition's hooks, per stream that was not stopped. */
  const told = new Map<string, { status: StreamStatus, sub_status: string }>()
  function reportTransitions (): void {
    const hooks = services().onTransition ?? []
    const now = new Map(machine.entries().map(e => [e.uuid, machine.state(e.uuid)]))
    const changes: Array<{ uuid: string, from: StreamStatus, to: StreamStatus, sub_status: string }> = []
    for (const [uuid, state] of now) {
      const before = told.get(uuid)
      if (before?.status !== state.status || before.sub_status !== state.sub_status) {
        changes.push({ uuid, from: before?.status ?? 'stopped', to: state.status, sub_status: state.sub_status })
      }
    }
    for (const [uuid, before] of told) if (!now.has(uuid)) changes.push({ uuid, from: before.status, to: 'stopped', sub_status: '' })
    told.clear()
    for (const [uuid, state] of now) told.set(uuid, state)
    for (const change of changes) for (const hook of hooks) hook(change)
  }

  function enforceLicense (): string[] {
    const current = license()
    const transcoders = machine.entries().filter(e => e.kind === 'transcoder' && (e.status === 'starting' || e.status === 'running'))
    const allowed = current.is_license_valid ? current.max_encoders : 0
    const reason = current.is_license_valid
      ? `licence: max_encoders is ${current.max_encoders}; no transcoder session for this stream`
      : 'licence: not valid (expired); transcoding stopped'
    // The streams started last lose their session first [ours].
    const beyond = transcoders.slice(allowed).map(e => e.uuid)
    for (const uuid of beyond) machine.fault(uuid, reason, { cause: 'licence' })
    return beyond
  }

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
      for (const hook of services().onBoot) hook()
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
    cancelReboot: () => reboot.cancel(),
    fault: (uuid, reason, options) => machine.fault(uuid, reason, options),
    recover: cause => machine.recover(cause),
    enforceLicense,
    entries: () => machine.entries(),
    snapshot: () => machine.snapshot(),
    restore: snapshot => machine.restore(snapshot)
  }
}
