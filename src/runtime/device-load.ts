import type { Span, StreamSignal } from './stream-statistics.ts'

export interface DeviceLoad { cpuPercent: number, memoryPercent: number, receivedMbps: number, sentMbps: number }

// approximation: an idle appliance and a per-stream cost scaled by pixel rate; a real device's
// figures depend on its hardware [ours]
const IDLE_CPU = 3.5
const IDLE_MEMORY = 31.2
/** CPU of one H.264 1080p30 encode (HEVC costs more); Bypass only remuxes. */
const CPU_PER_1080P30 = 7.5
const HEVC_FACTOR = 1.6
const CPU_PER_BYPASS = 0.6
const CPU_PER_DESTINATION = 0.3
const MEMORY_PER_TRANSCODER = 2.1
const MEMORY_PER_BYPASS = 0.4
const PIXELS_1080P30 = 1920 * 1080 * 30

const round2 = (n: number): number => Math.round(n * 100) / 100

/**
 * The device load that follows the running streams: an idle device reports constant figures, and
 * each running stream adds CPU, memory and network in proportion to what it carries, varying
 * with its live rates (so the values move a little while streams run and not otherwise).
 */
export function deviceLoad (running: ReadonlyArray<{ signal: StreamSignal, span: Span }>): DeviceLoad {
  let cpu = IDLE_CPU
  let memory = IDLE_MEMORY
  // Streams fed by one input share what arrives: a multicast group is joined once, a listener accepts once.
  const received = new Map<string, number>()
  let sentBps = 0
  for (const { signal, span } of running) {
    const p = signal.profile
    const inBps = signal.inputBps(span)
    received.set(p.inputId, inBps)
    sentBps += signal.sentBps(span)
    const destinations = p.outputs + (p.passthru ? 1 : 0)
    if (p.kind === 'bypass') {
      cpu += CPU_PER_BYPASS + CPU_PER_DESTINATION * destinations
      memory += MEMORY_PER_BYPASS
    } else {
      const encode = CPU_PER_1080P30 * (p.width * p.height * p.fps) / PIXELS_1080P30 * (p.format === 'hevc' ? HEVC_FACTOR : 1)
      // The encoder works harder when the source gets busier: follow the input's wobble.
      cpu += encode * (inBps / p.inputBps) + CPU_PER_DESTINATION * destinations
      memory += MEMORY_PER_TRANSCODER
    }
  }
  return {
    cpuPercent: round2(Math.min(cpu, 99)),
    memoryPercent: round2(Math.min(memory, 95)),
    receivedMbps: round2([...received.values()].reduce((a, b) => a + b, 0) / 1e6),
    sentMbps: round2(sentBps / 1e6)
  }
}
