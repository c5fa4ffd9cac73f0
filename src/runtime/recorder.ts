import type { Clock } from '../kernel/clock.ts'
import type { Item, Store } from '../kernel/store.ts'
import { profileOf } from './stream-profile.ts'

/** The archive locations a stream records into, one entry per recording (ts_segment_archive) output. */
export function recordingLocations (store: Store, stream: Item): string[] {
  const ids = [...(Array.isArray(stream.outputs) ? stream.outputs as unknown[] : []), stream.passthru_uuid]
  const out: string[] = []
  for (const id of ids) {
    if (typeof id !== 'string') continue
    const output = store.get('outputs', id)
    if (output?.protocol === 'ts_segment_archive' && typeof output.archive_location === 'string') out.push(output.archive_location)
  }
  return out
}

/** Megabytes of a quota are 10^6 bytes [ours]. */
export const quotaBytes = (location: Item): number => Number(location.quota_mb) * 1_000_000

/** Longest single wait of a quota timer: Node's timers overflow past 2^31 - 1 ms, so long waits are re-checked daily. */
const MAX_WAIT_MS = 86_400_000

interface Recording {
  /** A location per recording output of the stream (twice when two outputs record into one). */
  locations: string[]
  /** Bytes per second each output writes: the stream's nominal output bitrate / 8. */
  bytesPerSecond: number
  /** Clock time (ms) it started recording: when the stream reached running. */
  since: number
}

export interface RecorderDeps {
  store: () => Store
  clock: Clock
  /** The streams that are running now. */
  running: () => string[]
  /** A location is full: its recording streams go to `error` with this reason. */
  fill: (streams: string[], reason: string, cause: string) => void
}

/**
 * What recording streams write into their archive locations, on the device clock: a running
 * stream adds its bitrate / 8 bytes per second to each location one of its outputs records into,
 * and when a location reaches its quota, every stream recording there fails. The bytes live in
 * memory beside the stored `used_bytes` (what the location held when it was stored), like the
 * statistics counters [ours].
 */
export class Recorder {
  private readonly recordings = new Map<string, Recording>()
  /** Bytes written by recordings that have ended, per location, on top of its stored `used_bytes`. */
  private readonly settled = new Map<string, number>()
  private readonly timers = new Map<string, () => void>()
  /** Running streams already seen to record nothing, so each change does not look them up again. */
  private readonly plain = new Set<string>()
  private changes = 0

  constructor (private readonly deps: RecorderDeps) {}

  /** Changes when a location's used space may have changed; while anything records, with the clock. */
  version (): number {
    return this.recordings.size > 0 ? this.deps.clock.now() : -1 - this.changes
  }

  /** The bytes used in `location` (a stored item) now, never above its quota. */
  usedBytes (location: Item): number {
    const uuid = String(location.uuid)
    const stored = typeof location.used_bytes === 'number' ? location.used_bytes : 0
    const live = this.liveBytes(uuid, this.deps.clock.now())
    return Math.min(quotaBytes(location), Math.floor(stored + (this.settled.get(uuid) ?? 0) + live))
  }

  /** Forgets every recording and what they wrote (a reset restores the stored figures). */
  clear (): void {
    for (const cancel of this.timers.values()) cancel()
    this.timers.clear()
    this.recordings.clear()
    this.settled.clear()
    this.plain.clear()
    this.changes++
  }

  /** Called after every status change: streams that began or stopped running start or stop recording. */
  reconcile (): void {
    const store = this.deps.store()
    const now = this.deps.clock.now()
    const running = new Set(this.deps.running())
    const touched = new Set<string>()
    for (const [uuid, recording] of this.recordings) {
      if (running.has(uuid)) continue
      const seconds = (now - recording.since) / 1000
      for (const location of recording.locations) {
        this.settled.set(location, (this.settled.get(location) ?? 0) + recording.bytesPerSecond * seconds)
        touched.add(location)
      }
      this.recordings.delete(uuid)
    }
    for (const uuid of this.plain) if (!running.has(uuid)) this.plain.delete(uuid)
    for (const uuid of running) {
      if (this.recordings.has(uuid) || this.plain.has(uuid)) continue
      const stream = store.get('streams', uuid)
      if (stream === undefined) continue
      const locations = recordingLocations(store, stream)
      if (locations.length === 0) {
        // A running stream cannot be changed, so it stays one that records nothing until it stops.
        this.plain.add(uuid)
        continue
      }
      this.recordings.set(uuid, { locations, bytesPerSecond: profileOf(store, stream).outputBps / 8, since: now })
      for (const location of locations) touched.add(location)
    }
    if (touched.size === 0) return
    this.changes++
    for (const location of touched) this.schedule(location)
  }

  private liveBytes (location: string, now: number): number {
    let bytes = 0
    for (const recording of this.recordings.values()) {
      for (const l of recording.locations) if (l === location) bytes += recording.bytesPerSecond * (now - recording.since) / 1000
    }
    return bytes
  }

  private rate (location: string): number {
    let rate = 0
    for (const recording of this.recordings.values()) for (const l of recording.locations) if (l === location) rate += recording.bytesPerSecond
    return rate
  }

  /** Sets the location's timer for the instant it fills at the current rate. */
  private schedule (location: string): void {
    this.timers.get(location)?.()
    this.timers.delete(location)
    const rate = this.rate(location)
    const item = this.deps.store().get('archive_locations', location)
    if (rate <= 0 || item === undefined) return
    const stored = typeof item.used_bytes === 'number' ? item.used_bytes : 0
    const used = stored + (this.settled.get(location) ?? 0) + this.liveBytes(location, this.deps.clock.now())
    const wait = Math.max(0, Math.ceil((quotaBytes(item) - used) / rate * 1000))
    this.timers.set(location, this.deps.clock.setTimeout(() => {
      this.timers.delete(location)
      if (wait > MAX_WAIT_MS) {
        this.schedule(location)
        return
      }
      this.full(location, item)
    }, Math.min(wait, MAX_WAIT_MS)))
  }

  private full (location: string, item: Item): void {
    const streams = [...this.recordings].filter(([, r]) => r.locations.includes(location)).map(([uuid]) => uuid)
    const reason = `recording: archive location '${String(item.name)}' is full (quota ${String(item.quota_mb)} MB)`
    this.deps.fill(streams, reason, `archive-full:${location}`)
  }
}
