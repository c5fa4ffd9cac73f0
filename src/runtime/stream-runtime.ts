import type { FastifyInstance } from 'fastify'
import type { Services } from '../services.ts'

export type StreamStatus = 'stopped' | 'starting' | 'running' | 'stopping' | 'error'

/**
 * What the rest of the emulator asks of the live device. The runtime issue implements it; this
 * placeholder reports every stream stopped and an idle device.
 */
export interface StreamRuntime {
  /** The live status of a stream (runtime state lives in memory, never in the data file). */
  state: (uuid: string) => { status: StreamStatus, sub_status: string }
  /** True unless the stream is stopped (or in error): such a stream may not be changed or deleted. */
  isActive: (uuid: string) => boolean
  /** Running sessions, for GET /apis/v2/license. */
  counts: () => { transcoder: number, bypass: number }
  /** Device load that follows the running streams, for the metric snapshot. */
  load: () => { cpuPercent: number, memoryPercent: number, receivedMbps: number, sentMbps: number }
  /** Stops every stream and cancels timers (reset, reboot, close). */
  stopAll: () => void
}

export function createStreamRuntime (_services: () => Services): StreamRuntime {
  return {
    state: () => ({ status: 'stopped', sub_status: '' }),
    isActive: () => false,
    counts: () => ({ transcoder: 0, bypass: 0 }),
    load: () => ({ cpuPercent: 3.5, memoryPercent: 31.2, receivedMbps: 0, sentMbps: 0 }),
    stopAll: () => {}
  }
}

/** Stream actions, statistics and reboot routes. */
export function registerRuntimeRoutes (_app: FastifyInstance, _services: () => Services): void {
}
