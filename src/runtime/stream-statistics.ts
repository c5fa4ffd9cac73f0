import { Type, type Static } from 'typebox'
import type { StreamProfile } from './stream-profile.ts'
import { Wobble, prngFor } from './wobble.ts'

const Count = (description: string) => Type.Integer({ minimum: 0, description })
const Bps = (description: string) => Type.Integer({ minimum: 0, description: `${description} (bits per second)` })

// The group contents are ours: section 6 names the groups, not their keys [ours].
const InputGroup = Type.Object({
  bitrate: Bps('arriving from the source'),
  packets: Count('datagrams received (7 TS packets each); counter'),
  bytes: Count('bytes received; counter'),
  packets_lost: Count('datagrams lost or unrecovered; counter'),
  cc_errors: Count('MPEG-TS continuity-counter errors; counter')
}, { additionalProperties: false, description: 'What arrives from the input' })

const OutputGroup = Type.Object({
  destinations: Count('outputs fed by this stream (the passthru output included)'),
  bitrate: Bps('leaving the device over every destination together'),
  packets: Count('datagrams sent over every destination; counter'),
  bytes: Count('bytes sent over every destination; counter'),
  dropped: Count('datagrams dropped on send; counter')
}, { additionalProperties: false, description: 'What leaves the device' })

const DecoderGroup = Type.Object({
  frames_decoded: Count('video frames decoded (parsed, in Bypass); counter'),
  frames_dropped: Count('video frames the decoder dropped; counter')
}, { additionalProperties: false, description: 'The source video' })

const EncoderGroup = Type.Object({
  format: Type.String({ description: 'h264 or hevc' }),
  bitrate: Bps('of the encoded video'),
  frames_encoded: Count('video frames encoded; counter'),
  gop_size: Type.Integer({ minimum: 0, description: 'frames per GOP' }),
  qp: Type.Integer({ minimum: 0, description: 'average quantiser of the last second' })
}, { additionalProperties: false, description: 'The encoder; null in Bypass (iorouter), which encodes nothing' })

export const StreamStatistics = Type.Object({
  uptime: Type.Integer({ minimum: 0, description: 'seconds the stream has been running; 0 unless running' }),
  overall_rate: Bps('of one copy of the stream\'s output: near the transcoder\'s bitrate, or the source\'s in Bypass'),
  input_rate: Bps('arriving from the input'),
  resolution: Type.String({ description: 'WIDTHxHEIGHT of the output video, e.g. "1280x720"; "0x0" unless running' }),
  fps: Type.Number({ minimum: 0, description: 'output frames per second (two decimals)' }),
  latency_ms: Type.Integer({ minimum: 0, description: 'input-to-output delay in milliseconds' }),
  input: InputGroup,
  output: OutputGroup,
  decoder: DecoderGroup,
  encoder: Type.Union([EncoderGroup, Type.Null()])
}, {
  additionalProperties: false,
  description: 'Live statistics of a stream: zeros unless it is running. Counters grow monotonically while it runs and start from 0 at each start or statistics reset.'
})
export type StreamStatistics = Static<typeof StreamStatistics>

/** The counter fields, which a statistics reset zeroes. */
export interface Counters {
  input: { packets: number, bytes: number, packets_lost: number, cc_errors: number }
  output: { packets: number, bytes: number, dropped: number }
  decoder: { frames_decoded: number, frames_dropped: number }
  encoder: { frames_encoded: number }
}

/** UDP and SRT carry 7 TS packets (1316 bytes) per datagram. */
const DATAGRAM_BYTES = 7 * 188

const round2 = (n: number): number => Math.round(n * 100) / 100

/** A running stream's time: `since` (it reached running) and `now`, in seconds of the clock since the emulator started. */
export interface Span { since: number, now: number }

/**
 * The live values of one run of one stream, as pure functions of clock time. The source wobbles
 * on the clock itself, keyed by the input, so streams fed by one input agree on its rate; the rest
 * wobbles with the run's own time. Counters are floors of increasing functions: they never decrease.
 */
export class StreamSignal {
  private readonly input: Wobble
  private readonly output: Wobble
  private readonly fps: Wobble
  private readonly latency: Wobble
  private readonly qp: Wobble
  private readonly lossRate: number
  private readonly dropRate: number
  private readonly frameDropRate: number

  constructor (readonly profile: StreamProfile, seed: number, uuid: string) {
    const r = prngFor(seed, uuid, 'rates')
    this.input = new Wobble(prngFor(seed, 'input', profile.inputId), 0.03)
    this.output = new Wobble(prngFor(seed, uuid, 'output'), 0.015)
    this.fps = new Wobble(prngFor(seed, uuid, 'fps'), 0.002)
    this.latency = new Wobble(prngFor(seed, uuid, 'latency'), 0.04)
    this.qp = new Wobble(prngFor(seed, uuid, 'qp'), 0.03)
    // A healthy network: a lost datagram a minute or so, an occasional dropped frame [ours].
    this.lossRate = 2e-6 + 8e-6 * r()
    this.dropRate = 1e-7 + 4e-7 * r()
    this.frameDropRate = 1e-5 + 4e-5 * r()
  }

  inputBps (s: Span): number {
    return this.profile.inputBps * this.input.at(s.now)
  }

  /** One copy of the output; in Bypass the copy is the source itself, so it follows the input. */
  private outputBps (s: Span): number {
    return this.profile.kind === 'bypass' ? this.inputBps(s) : this.profile.outputBps * this.output.at(s.now - s.since)
  }

  /** Bits per second leaving over every destination (also the device's network load). */
  sentBps (s: Span): number {
    const p = this.profile
    return p.outputs * this.outputBps(s) + (p.passthru ? this.inputBps(s) : 0)
  }

  /** Raw counters since the run reached running. */
  counters (s: Span): Counters {
    const p = this.profile
    const t = s.now - s.since
    const inBytes = (p.inputBps / 8) * this.input.between(s.since, s.now)
    const copyBytes = p.kind === 'bypass' ? inBytes : (p.outputBps / 8) * this.output.between(0, t)
    const sent = Math.floor(p.outputs * copyBytes + (p.passthru ? inBytes : 0))
    const inPackets = Math.floor(inBytes / DATAGRAM_BYTES)
    const lost = Math.floor(inPackets * this.lossRate)
    const outPackets = Math.floor(sent / DATAGRAM_BYTES)
    const decoded = Math.floor(p.sourceFps * t)
    return {
      input: { packets: inPackets, bytes: Math.floor(inBytes), packets_lost: lost, cc_errors: Math.floor(lost / 2) },
      output: { packets: outPackets, bytes: sent, dropped: Math.floor(outPackets * this.dropRate) },
      decoder: { frames_decoded: decoded, frames_dropped: Math.floor(decoded * this.frameDropRate) },
      encoder: { frames_encoded: p.kind === 'bypass' ? 0 : Math.floor(p.fps * t) }
    }
  }

  /** The statistics at `s.now`, counters taken relative to `baseline` (the last reset). */
  statistics (s: Span, baseline: Counters | undefined): StreamStatistics {
    const p = this.profile
    const t = s.now - s.since
    const c = subtract(this.counters(s), baseline)
    return {
      uptime: Math.floor(t),
      overall_rate: Math.round(this.outputBps(s)),
      input_rate: Math.round(this.inputBps(s)),
      resolution: `${p.width}x${p.height}`,
      fps: round2(p.fps * this.fps.at(t)),
      latency_ms: Math.round(p.latencyMs * this.latency.at(t)),
      input: { bitrate: Math.round(this.inputBps(s)), ...c.input },
      output: { destinations: p.outputs + (p.passthru ? 1 : 0), bitrate: Math.round(this.sentBps(s)), ...c.output },
      decoder: c.decoder,
      encoder: p.kind === 'bypass' || p.format === null
        ? null
        : {
            format: p.format,
            bitrate: Math.round(p.videoBps * this.output.at(t)),
            frames_encoded: c.encoder.frames_encoded,
            gop_size: p.gopSize,
            // Around 26, moving with the encoder's rate control.
            qp: Math.round(26 + 100 * (this.qp.at(t) - 1))
          }
    }
  }
}

function subtract (now: Counters, base: Counters | undefined): Counters {
  if (base === undefined) return now
  const group = <T extends Record<string, number>>(a: T, b: T): T =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)])) as T
  return {
    input: group(now.input, base.input),
    output: group(now.output, base.output),
    decoder: group(now.decoder, base.decoder),
    encoder: group(now.encoder, base.encoder)
  }
}

/** The statistics of a stream that is not running: zeros, and no encoder in Bypass. */
export function idleStatistics (bypass: boolean): StreamStatistics {
  return {
    uptime: 0,
    overall_rate: 0,
    input_rate: 0,
    resolution: '0x0',
    fps: 0,
    latency_ms: 0,
    input: { bitrate: 0, packets: 0, bytes: 0, packets_lost: 0, cc_errors: 0 },
    output: { destinations: 0, bitrate: 0, packets: 0, bytes: 0, dropped: 0 },
    decoder: { frames_decoded: 0, frames_dropped: 0 },
    encoder: bypass ? null : { format: '', bitrate: 0, frames_encoded: 0, gop_size: 0, qp: 0 }
  }
}
