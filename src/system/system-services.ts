import type { Clock } from '../kernel/clock.ts'
import type { Store } from '../kernel/store.ts'

/**
 * What the system endpoints need of the emulator (src/services.ts's Services satisfies it).
 * Declared here, below the services that wire the system in, so no system file imports them.
 */
export interface SystemServices {
  store: Store
  clock: Clock
  /** Device start time (ms), for uptime. */
  startedAt: number
  /** Hooks to run after a reset. */
  onReset: Array<() => void | Promise<void>>
  /** The live device (src/runtime/): sessions in use for the licence, load for the metric snapshot. */
  runtime: {
    counts: () => { transcoder: number, bypass: number }
    load: () => { cpuPercent: number, memoryPercent: number, receivedMbps: number, sentMbps: number }
    /** After a licence change: streams beyond it fall to `error` (returns them); `recover('licence')` runs those it allows again. */
    enforceLicense: () => string[]
    recover: (cause: string) => string[]
    /** Streams that hold a session and record into an archive location (the recording service cannot stop under them). */
    recordingStreams: () => string[]
  }
}
