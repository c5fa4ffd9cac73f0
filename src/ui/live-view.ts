// What the live page shows, built from the device's own state: the same values the API answers
// (systeminfo, licence, metric snapshot, streams and their statistics), shaped for one screen.
import type { Item } from '../kernel/store.ts'
import { readSingleton } from '../system/singleton.ts'
import { readNetwork } from '../system/network-routes.ts'
import { SYSTEMINFO, SystemIdentity } from '../system/systeminfo.ts'
import { readLicense } from '../system/license.ts'
import type { Services } from '../services.ts'

/** The collections the page follows; accounts are left out on purpose (a Viewer may not see them). */
export const WATCHED = ['streams', 'inputs', 'outputs', 'transcoders', 'metadata'] as const
export type Watched = typeof WATCHED[number]

export interface StreamView {
  uuid: string
  name: string
  mode: string
  input: string
  transcoder: string | null
  passthru: string | null
  outputs: string[]
  status: string
  sub_status: string
}

/** An object the diagrams name (an input, output, transcoder or metadata source). */
export interface ObjectView { uuid: string, name: string }

export interface DeviceView {
  hostname: string
  model: string
  version: string
  serial_number: string
}

export interface DeviceStats {
  uptime: number
  cpu: number
  memory: number
  licence: { transcoder: number, bypass: number, max_encoders: number, valid: boolean }
}

/** One second of a running stream: bits per second out and in, frames per second. */
export interface StreamStats { bitrate: number, input_rate: number, fps: number, resolution: string }

export function streamView (s: Pick<Services, 'runtime'>, item: Item): StreamView {
  const uuid = String(item.uuid)
  const state = s.runtime.state(uuid)
  return {
    uuid,
    name: String(item.name),
    mode: String(item.mode),
    input: String(item.input),
    transcoder: typeof item.transcoder === 'string' ? item.transcoder : null,
    passthru: typeof item.passthru_uuid === 'string' ? item.passthru_uuid : null,
    outputs: Array.isArray(item.outputs) ? item.outputs.map(String) : [],
    status: state.status,
    sub_status: state.sub_status
  }
}

export function objectView (item: Item): ObjectView {
  return { uuid: String(item.uuid), name: String(item.name) }
}

export function viewOf (s: Pick<Services, 'runtime'>, collection: Watched, item: Item): StreamView | ObjectView {
  return collection === 'streams' ? streamView(s, item) : objectView(item)
}

export function deviceView (s: Pick<Services, 'store'>): DeviceView {
  const identity = readSingleton(s.store, SYSTEMINFO, SystemIdentity)
  return { hostname: readNetwork(s.store).hostname, model: identity.model, version: identity.version, serial_number: identity.serial_number }
}

export function deviceStats (s: Pick<Services, 'store' | 'clock' | 'runtime' | 'startedAt'>): DeviceStats {
  const load = s.runtime.load()
  const counts = s.runtime.counts()
  const licence = readLicense(s)
  return {
    uptime: Math.max(0, Math.floor((s.clock.now() - s.startedAt) / 1000)),
    cpu: load.cpuPercent,
    memory: load.memoryPercent,
    licence: { transcoder: counts.transcoder, bypass: counts.bypass, max_encoders: licence.max_encoders, valid: licence.is_license_valid }
  }
}

/** The figures of every running stream (the others are zeros, which the page knows). */
export function streamStats (s: Pick<Services, 'runtime' | 'store'>): Record<string, StreamStats> {
  const out: Record<string, StreamStats> = {}
  for (const entry of s.runtime.entries()) {
    // A run outlives its stream only between a delete and the runtime noticing it: skip it.
    if (entry.status !== 'running' || s.store.get('streams', entry.uuid) === undefined) continue
    const stats = s.runtime.statistics(entry.uuid)
    out[entry.uuid] = { bitrate: stats.overall_rate, input_rate: stats.input_rate, fps: stats.fps, resolution: stats.resolution }
  }
  return out
}
