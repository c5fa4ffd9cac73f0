// The runtime's two interfaces: what it offers the rest of the emulator (StreamRuntime) and what it
// needs of it (RuntimeServices, which src/services.ts's Services satisfies). Declared here, below
// the services that wire the runtime in, so no runtime file imports src/services.ts.
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.ts'
import type { Clock } from '../kernel/clock.ts'
import type { Registry } from '../kernel/registry.ts'
import type { Item, Store } from '../kernel/store.ts'
import type { DeviceLoad } from './device-load.ts'
import type { Hold, RunSnapshot, StreamStatus } from './stream-machine.ts'
import type { StreamStatistics } from './stream-statistics.ts'

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
  /** A device fault: a starting or running stream goes to `error` with `reason`; false when it was neither. */
  fault: (uuid: string, reason: string, options: { cause: string, recoverAfterMs?: number }) => boolean
  /** Streams in `error` because of `cause` run again; returns their uuids. */
  recover: (cause: string) => string[]
  /** After a licence change: running transcoders beyond it (the last started first) fall to `error`; returns their uuids. */
  enforceLicense: () => string[]
  /** Bytes used now in an archive location (the stored item): its stored `used_bytes` plus what streams recorded since. */
  archiveUsedBytes: (location: Item) => number
  /** Changes whenever a location's used space may have (a list cache keys on it). */
  archiveVersion: () => number
  /** Streams that hold a session (starting, running, stopping) and record into an archive location. */
  recordingStreams: () => string[]
  /** Every stream that is not stopped, in start order. */
  entries: () => Array<{ uuid: string, status: Exclude<StreamStatus, 'stopped'>, kind: 'transcoder' | 'bypass' }>
  /** The live state a snapshot keeps (which streams run, their counters), and its restore. */
  snapshot: () => RuntimeSnapshot
  restore: (snapshot: RuntimeSnapshot) => void
}

export interface RuntimeSnapshot { takenAt: number, runs: RunSnapshot[] }

/** What the runtime, its routes and the reboot gate need of the emulator. */
export interface RuntimeServices {
  config: Pick<Config, 'transitionMs' | 'rebootMs' | 'seed'>
  clock: Clock
  store: Store
  registry: Registry
  log: FastifyBaseLogger
  /** Ends every session (a reboot): src/auth/'s SessionStore. */
  sessions: { clear: (reason: 'reboot') => void }
  /** Device start time (ms), for uptime: a reboot restarts it. */
  startedAt: number
  /** Hooks to run after a reset. */
  onReset: Array<() => void | Promise<void>>
  /** Hooks run when a reboot boots, before auto-start (the start-up preset). */
  onBoot: Array<() => void>
  /** The runtime as the app holds it (read at each use: a test may swap it). */
  runtime: StreamRuntime
  /** Device conditions (a NIC that is down) that keep a stream from running, if any. */
  hold?: Hold
  /** Told of every change of a stream's live status (the device log). */
  onTransition?: Array<(change: { uuid: string, from: StreamStatus, to: StreamStatus, sub_status: string }) => void>
}
