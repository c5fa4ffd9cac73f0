import { randomInt } from 'node:crypto'
import { KrakenError } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { admitStream } from './admit.ts'
import { Recorder, recordingLocations } from './recorder.ts'
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
    admit: stream => admitStream(services().store, license(), stream, location => recorder.usedBytes(location)),
    onChange: uuid => {
      recorder.reconcile()
      reportTransitions(uuid)
    }
  })
  const recorder = new Recorder({
    store: () => services().store,
    clock: services().clock,
    running: () => machine.entries().filter(e => e.status === 'running').map(e => e.uuid),
    fill: (streams, reason, cause) => { for (const uuid of streams) machine.fault(uuid, reason, { cause }) }
  })
  // A reset brings the stored used space back: what was recorded since is forgotten with it.
  services().onReset.push(() => recorder.clear())

  /** The last status told to onTransition's hooks, per stream that was not stopped. */
  const told = new Map<string, { status: StreamStatus, sub_status: string }>()
  /** Tells the hooks what changed: one stream's status (cheap), or after a bulk change every stream's. */
  function reportTransitions (uuid: string | undefined): void {
    const changes: Array<{ uuid: string, from: StreamStatus, to: StreamStatus, sub_status: string }> = []
    const compare = (id: string): void => {
      const before = told.get(id) ?? { status: 'stopped', sub_status: '' }
      const now = machine.state(id)
      if (before.status === now.status && before.sub_status === now.sub_status) return
      changes.push({ uuid: id, from: before.status, to: now.status, sub_status: now.sub_status })
      if (now.status === 'stopped') told.delete(id)
      else told.set(id, now)
    }
    if (uuid !== undefined) compare(uuid)
    else for (const id of new Set([...told.keys(), ...machine.entries().map(e => e.uuid)])) compare(id)
    const hooks = services().onTransition ?? []
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
    // A feature the licence no longer grants (Recording, KLV) stops the streams that use it.
    const { store } = services()
    for (const entry of machine.entries()) {
      if (entry.status !== 'starting' && entry.status !== 'running') continue
      const stream = store.get('streams', entry.uuid)
      const missing = stream === undefined ? undefined : missingFeature(stream)
      if (missing !== undefined && machine.fault(entry.uuid, missing, { cause: 'licence' })) beyond.push(entry.uuid)
    }
    return beyond
  }

  /** The licence's refusal of a stream's features, or undefined when it grants them. */
  function missingFeature (stream: Item): string | undefined {
    try {
      admitStream(services().store, license(), stream, undefined)
      return undefined
    } catch (error) {
      if (!(error instanceof KrakenError)) throw error
      return error.message
    }
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
      services().sessions.clear('reboot')
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
    archiveUsedBytes: location => recorder.usedBytes(location),
    archiveVersion: () => recorder.version(),
    recordingStreams: () => machine.entries().filter(e => e.status !== 'error' && recordingLocations(services().store, services().store.get('streams', e.uuid) ?? {}).length > 0).map(e => e.uuid),
    entries: () => machine.entries(),
    snapshot: () => machine.snapshot(),
    restore: snapshot => machine.restore(snapshot)
  }
}
