import type { Clock } from '../kernel/clock.ts'
import { KrakenError, conflict, notFound } from '../kernel/errors.ts'
import type { Item, Store } from '../kernel/store.ts'
import { assertFreeEncoder, type LicenseView } from './license.ts'
import { profileOf, sessionKindOf, type SessionKind } from './stream-profile.ts'
import { StreamSignal, idleStatistics, type Counters, type Span, type StreamStatistics } from './stream-statistics.ts'

export type StreamStatus = 'stopped' | 'starting' | 'running' | 'stopping' | 'error'

/** One stream that is not plainly stopped. A stopped stream has no entry at all. */
interface Run {
  status: Exclude<StreamStatus, 'stopped'>
  subStatus: string
  kind: SessionKind
  signal: StreamSignal | undefined
  /** Clock time (ms) the stream reached `running`. */
  runningSince: number | undefined
  /** Raw counters at the last statistics reset of this run. */
  baseline: Counters | undefined
  /** Cancels the pending transition (or the recovery of a fault). */
  cancel: (() => void) | undefined
  /** Clock time the run's signal lags behind the clock: a run restored from a snapshot goes on where it was. */
  shiftMs?: number
  /** What put the stream in `error` (a device event), so the matching recovery finds it. */
  cause?: string
}

/** A stream's run as a snapshot keeps it (see StreamMachine.snapshot). */
export interface RunSnapshot {
  uuid: string
  status: Exclude<StreamStatus, 'stopped'>
  subStatus: string
  kind: SessionKind
  runningSince: number | null
  shiftMs: number
  baseline: Counters | null
  cause: string | null
}

/** Why a stream cannot run (a device condition such as a NIC that is down), or undefined. */
export type Hold = (uuid: string) => { reason: string, cause: string } | undefined

export interface MachineDeps {
  store: () => Store
  license: () => LicenseView
  clock: Clock
  /** Clock time (ms) that signals count from: small numbers keep every digit of the sums. */
  epoch: number
  transitionMs: () => number
  seed: () => number
  /** Asked when a stream reaches running: a held stream goes to `error` instead. */
  hold?: Hold
  /** Told after every status change, of one stream or (no uuid) of any (the device log reads the new statuses). */
  onChange?: (uuid?: string) => void
  /**
   * Asked before a stream starts or runs again after an error: throws a KrakenError (409) when
   * something other than an encoder session keeps it from running (a licence feature, a full archive).
   */
  admit?: (stream: Item) => void
}

/**
 * A stream's signal, keyed by its name (unique among streams) rather than its uuid: a script that
 * creates its streams gets generated uuids that differ from run to run, and with `--seed` it must
 * still see the same statistics every time.
 */
function signalOf (store: Store, stream: Item, seed: number): StreamSignal {
  const key = typeof stream.name === 'string' && stream.name !== '' ? stream.name : String(stream.uuid)
  return new StreamSignal(profileOf(store, stream), seed, key)
}

/**
 * The stream state machine of kraken-api.md section 6:
 * stopped -> starting -> running -> stopping -> stopped, each step taking `--transition-ms`
 * of the clock (0: immediate). State lives in memory only: after a restart every stream is
 * stopped until auto-start starts it, as on a device that boots.
 */
export class StreamMachine {
  private readonly runs = new Map<string, Run>()
  private changes = 0

  constructor (private readonly deps: MachineDeps) {}

  /** Grows at every status change, so a cached list of streams knows when it is stale. */
  get version (): number {
    return this.changes
  }

  state (uuid: string): { status: StreamStatus, sub_status: string } {
    const run = this.runs.get(uuid)
    return run === undefined ? { status: 'stopped', sub_status: '' } : { status: run.status, sub_status: run.subStatus }
  }

  /**
   * A stream holds its licence session, and may not be changed, from the start request until it
   * is fully stopped: the encoder process lives through `starting` and `stopping` too [ours].
   */
  isActive (uuid: string): boolean {
    const status = this.runs.get(uuid)?.status
    return status !== undefined && status !== 'error'
  }

  activeCount (kind: SessionKind): number {
    let n = 0
    for (const [uuid, run] of this.runs) if (run.kind === kind && this.isActive(uuid)) n++
    return n
  }

  /** Starts a stream; a no-op when it is already starting or running. Throws 404/409. */
  start (uuid: string): void {
    const stream = this.stream(uuid)
    const current = this.runs.get(uuid)
    if (current?.status === 'starting' || current?.status === 'running') return
    if (current?.status === 'stopping') {
      // approximation: a real device may queue the start; refusing keeps the state machine linear [ours]
      throw conflict('stream is stopping; start it again once it is stopped', [{ field: 'status', message: 'is stopping' }])
    }
    const kind = sessionKindOf(stream)
    this.deps.admit?.(stream)
    if (kind === 'transcoder') assertFreeEncoder(this.deps.license(), this.activeCount('transcoder'))
    const run: Run = {
      status: 'starting',
      subStatus: '',
      kind,
      signal: signalOf(this.deps.store(), stream, this.deps.seed()),
      runningSince: undefined,
      baseline: undefined,
      cancel: undefined
    }
    this.runs.set(uuid, run)
    this.changed(uuid)
    this.after(uuid, run, () => {
      const held = this.deps.hold?.(uuid)
      if (held !== undefined) {
        run.status = 'error'
        run.subStatus = held.reason
        run.cause = held.cause
        return
      }
      run.status = 'running'
      run.runningSince = this.deps.clock.now()
    })
  }

  /** Stops a stream; a no-op when it is already stopping or stopped. A start in progress is aborted. */
  stop (uuid: string): void {
    this.stream(uuid)
    const run = this.runs.get(uuid)
    if (run === undefined || run.status === 'stopping') return
    run.cancel?.()
    if (run.status === 'error') {
      this.runs.delete(uuid)
      this.changed(uuid)
      return
    }
    run.status = 'stopping'
    run.runningSince = undefined
    this.changed(uuid)
    this.after(uuid, run, () => { if (this.runs.get(uuid) === run) this.runs.delete(uuid) })
  }

  /** Marks a stream that could not start (auto-start beyond the licence): status `error` with the reason. */
  fail (uuid: string, reason: string, kind: SessionKind): void {
    this.runs.get(uuid)?.cancel?.()
    this.runs.set(uuid, { status: 'error', subStatus: reason, kind, signal: undefined, runningSince: undefined, baseline: undefined, cancel: undefined })
    this.changed(uuid)
  }

  /**
   * A device fault: a starting or running stream goes to `error` with `reason` (its counters
   * end with the run). With `recoverAfterMs` it runs again after that much of the clock, counters
   * from zero as after any start [ours]. Returns false when the stream was neither starting nor running.
   */
  fault (uuid: string, reason: string, options: { cause: string, recoverAfterMs?: number }): boolean {
    const run = this.runs.get(uuid)
    if (run === undefined || (run.status !== 'running' && run.status !== 'starting')) return false
    run.cancel?.()
    run.cancel = undefined
    run.status = 'error'
    run.subStatus = reason
    run.cause = options.cause
    run.runningSince = undefined
    run.baseline = undefined
    run.shiftMs = undefined
    this.changed(uuid)
    if (options.recoverAfterMs !== undefined) {
      run.cancel = this.deps.clock.setTimeout(() => {
        run.cancel = undefined
        this.revive(uuid, run)
      }, options.recoverAfterMs)
    }
    return true
  }

  /** Every stream in `error` because of `cause` runs again; returns their uuids. */
  recover (cause: string): string[] {
    const revived: string[] = []
    for (const [uuid, run] of [...this.runs]) {
      if (run.status !== 'error' || run.cause !== cause) continue
      run.cancel?.()
      run.cancel = undefined
      if (this.revive(uuid, run)) revived.push(uuid)
    }
    return revived
  }

  /** The streams that hold a session or are in error, in the order they were started. */
  entries (): Array<{ uuid: string, status: Exclude<StreamStatus, 'stopped'>, kind: SessionKind }> {
    return [...this.runs].map(([uuid, run]) => ({ uuid, status: run.status, kind: run.kind }))
  }

  /** The runs as a snapshot keeps them, with the clock time they were taken at. */
  snapshot (): { takenAt: number, runs: RunSnapshot[] } {
    const runs = [...this.runs].map(([uuid, run]) => ({
      uuid,
      status: run.status,
      subStatus: run.subStatus,
      kind: run.kind,
      runningSince: run.runningSince ?? null,
      shiftMs: run.shiftMs ?? 0,
      baseline: run.baseline === undefined ? null : structuredClone(run.baseline),
      cause: run.cause ?? null
    }))
    return { takenAt: this.deps.clock.now(), runs }
  }

  /**
   * Replaces every run by a snapshot's: running streams go on with the counters and rates they
   * had when it was taken, streams in error stay in error (without a pending recovery), a
   * starting stream starts again, a stopping one is stopped. Streams no longer stored are skipped.
   */
  restore (snapshot: { takenAt: number, runs: readonly RunSnapshot[] }): void {
    this.stopAll()
    const now = this.deps.clock.now()
    for (const saved of snapshot.runs) {
      const stream = this.deps.store().get('streams', saved.uuid)
      if (stream === undefined || saved.status === 'stopping') continue
      if (saved.status === 'starting') {
        try {
          this.start(saved.uuid)
        } catch (error) {
          if (!(error instanceof KrakenError)) throw error
          this.fail(saved.uuid, error.message, saved.kind)
        }
        continue
      }
      const running = saved.status === 'running' && saved.runningSince !== null
      this.runs.set(saved.uuid, {
        status: running ? 'running' : 'error',
        subStatus: saved.subStatus,
        kind: saved.kind,
        signal: signalOf(this.deps.store(), stream, this.deps.seed()),
        runningSince: running ? (saved.runningSince ?? undefined) : undefined,
        baseline: saved.baseline ?? undefined,
        cancel: undefined,
        shiftMs: running ? now - snapshot.takenAt + saved.shiftMs : undefined,
        ...(saved.cause === null ? {} : { cause: saved.cause })
      })
    }
    this.changed()
  }

  /** A stream in error runs again, if it still exists and a licence session is free; true when it does. */
  private revive (uuid: string, run: Run): boolean {
    if (this.runs.get(uuid) !== run || run.status !== 'error') return false
    const stream = this.deps.store().get('streams', uuid)
    if (stream === undefined) {
      this.runs.delete(uuid)
      this.changed(uuid)
      return false
    }
    try {
      this.deps.admit?.(stream)
      if (run.kind === 'transcoder') assertFreeEncoder(this.deps.license(), this.activeCount('transcoder'))
    } catch (error) {
      // No session free: the stream stays in error for the reason it fell.
      if (!(error instanceof KrakenError)) throw error
      return false
    }
    const held = this.deps.hold?.(uuid)
    if (held !== undefined) {
      run.subStatus = held.reason
      run.cause = held.cause
      this.changed(uuid)
      return false
    }
    run.status = 'running'
    run.subStatus = ''
    run.cause = undefined
    run.signal = signalOf(this.deps.store(), stream, this.deps.seed())
    run.runningSince = this.deps.clock.now()
    run.baseline = undefined
    run.shiftMs = undefined
    this.changed(uuid)
    return true
  }

  /** Every stream stopped at once, every pending transition cancelled (reset, reboot, close). */
  stopAll (): void {
    for (const run of this.runs.values()) run.cancel?.()
    this.runs.clear()
    this.changed()
  }

  /** The signals of the running streams and their time, for the device load. */
  running (): Array<{ signal: StreamSignal, span: Span }> {
    const out: Array<{ signal: StreamSignal, span: Span }> = []
    for (const run of this.runs.values()) {
      const span = this.span(run)
      if (run.signal !== undefined && span !== undefined) out.push({ signal: run.signal, span })
    }
    return out
  }

  statistics (uuid: string): StreamStatistics {
    const stream = this.stream(uuid)
    const run = this.runs.get(uuid)
    const span = this.span(run)
    if (run?.signal === undefined || span === undefined) return idleStatistics(sessionKindOf(stream) === 'bypass')
    return run.signal.statistics(span, run.baseline)
  }

  /** Zeroes the counters of a running stream from now on; a stopped stream's are zero already. */
  resetStatistics (uuid: string): StreamStatistics {
    this.stream(uuid)
    const run = this.runs.get(uuid)
    const span = this.span(run)
    if (run?.signal !== undefined && span !== undefined) run.baseline = run.signal.counters(span)
    return this.statistics(uuid)
  }

  private span (run: Run | undefined): Span | undefined {
    if (run?.status !== 'running' || run.runningSince === undefined) return undefined
    const shift = run.shiftMs ?? 0
    return { since: (run.runningSince - this.deps.epoch) / 1000, now: (this.deps.clock.now() - shift - this.deps.epoch) / 1000 }
  }

  /** A status changed: of `uuid`, or of any stream (a bulk change) when none is named. */
  private changed (uuid?: string): void {
    this.changes++
    this.deps.onChange?.(uuid)
  }

  private stream (uuid: string): Item {
    const stream = this.deps.store().get('streams', uuid)
    if (stream === undefined) throw notFound(`stream '${uuid}'`)
    return stream
  }

  /** Runs a transition's end after `--transition-ms`; at 0 it happens before the reply. */
  private after (uuid: string, run: Run, fn: () => void): void {
    const ms = this.deps.transitionMs()
    if (ms <= 0) {
      run.cancel = undefined
      fn()
      this.changed(uuid)
      return
    }
    run.cancel = this.deps.clock.setTimeout(() => {
      run.cancel = undefined
      fn()
      this.changed(uuid)
    }, ms)
  }
}
