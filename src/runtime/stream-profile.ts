import type { Item, Store } from '../kernel/store.ts'

export type SessionKind = 'transcoder' | 'bypass'

/**
 * What a running stream looks like on the wire, derived once from its configuration when it
 * starts: a running encoder keeps the settings it started with until it is restarted.
 */
export interface StreamProfile {
  mode: 'transcoder' | 'passthru' | 'iorouter'
  kind: SessionKind
  /** Identifies the input (its name; its uuid when unnamed): streams fed by one input see one source. */
  inputId: string
  /** Bits per second arriving from the source. */
  inputBps: number
  /** Bits per second of one copy of the stream's output (the transcoded TS, or the source in Bypass). */
  outputBps: number
  /** Outputs fed with that copy. */
  outputs: number
  /** A passthru output also gets the untouched source. */
  passthru: boolean
  /** Video bits per second of the encoder (0 in Bypass). */
  videoBps: number
  width: number
  height: number
  sourceFps: number
  fps: number
  format: string | null
  gopSize: number
  latencyMs: number
}

/**
 * What the emulator assumes about the source behind each input protocol: a device cannot know
 * the far end, and field clients only need plausible numbers.
 */
// approximation: nominal source per input protocol; no real signal exists behind an input [ours]
const SOURCES: Record<string, { width: number, height: number, fps: number, kbps: number }> = {
  ts_udp: { width: 1920, height: 1080, fps: 30, kbps: 8000 },
  ts_srt: { width: 1920, height: 1080, fps: 30, kbps: 6000 },
  rtsp: { width: 1920, height: 1080, fps: 25, kbps: 4000 },
  rtmp: { width: 1280, height: 720, fps: 30, kbps: 3500 },
  mjpeg: { width: 1280, height: 720, fps: 15, kbps: 12000 }
}
const DEFAULT_SOURCE = SOURCES.ts_udp!

/** The nominal source behind an input protocol, or undefined for a protocol the emulator assumes nothing about. */
export function nominalSource (protocol: unknown): { width: number, height: number, fps: number } | undefined {
  return typeof protocol === 'string' && Object.hasOwn(SOURCES, protocol) ? SOURCES[protocol] : undefined
}

/** MPEG-TS and PES headers add a few percent over the elementary streams [ours]. */
const TS_OVERHEAD = 1.04
/** Encoder pipeline delay (lookahead, GOP buffering) versus a Bypass remux [ours]. */
const BASE_LATENCY_MS = { transcoder: 450, passthru: 450, iorouter: 40 } as const

/** Transcoder modes use an encoder licence; Bypass (`iorouter`) does not [docs]. */
export function sessionKindOf (stream: Item): SessionKind {
  return stream.mode === 'iorouter' ? 'bypass' : 'transcoder'
}

function num (value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
}

/** A transcoder's size, or the source's when it keeps it (width and height 0 together). */
function outputSize (tc: Item | undefined, src: { width: number, height: number }): { width: number, height: number } {
  const width = num(tc?.width, 0)
  const height = num(tc?.height, 0)
  return width > 0 && height > 0 ? { width, height } : { width: src.width, height: src.height }
}

/** The profile of a stream from its stored configuration and the objects it references. */
export function profileOf (store: Store, stream: Item): StreamProfile {
  const mode = stream.mode === 'passthru' || stream.mode === 'iorouter' ? stream.mode : 'transcoder'
  const inputUuid = typeof stream.input === 'string' ? stream.input : ''
  const input = store.get('inputs', inputUuid)
  // The input's name (unique among inputs) rather than its uuid, which differs between runs of a
  // script that creates it: with --seed the source must wobble the same way every run.
  const inputId = typeof input?.name === 'string' && input.name !== '' ? input.name : inputUuid
  const src = SOURCES[String(input?.protocol)] ?? DEFAULT_SOURCE
  const inputBps = src.kbps * 1000
  const outputs = Array.isArray(stream.outputs) ? stream.outputs.length : 0
  const srtLatency = input?.protocol === 'ts_srt' ? num(input.srt_latency, 125) : 0
  const latencyMs = BASE_LATENCY_MS[mode] + srtLatency

  if (mode === 'iorouter') {
    return {
      mode, kind: 'bypass', inputId, inputBps, outputBps: inputBps, outputs, passthru: false,
      videoBps: 0, width: src.width, height: src.height, sourceFps: src.fps, fps: src.fps,
      format: null, gopSize: 0, latencyMs
    }
  }

  const tc = typeof stream.transcoder === 'string' ? store.get('transcoders', stream.transcoder) : undefined
  const videoKbps = num(tc?.video_bitrate, 2000)
  const audioKbps = num(tc?.audio_bitrate, 128)
  // A shaped TS is padded to a constant rate; otherwise the rate follows the elementary streams.
  const shaped = tc?.ts_shaping === true && num(tc.ts_bitrate, 0) > 0
  const outputBps = Math.round((shaped ? num(tc.ts_bitrate, 0) : (videoKbps + audioKbps) * TS_OVERHEAD) * 1000)
  const { width, height } = outputSize(tc, src)
  const fps = typeof tc?.framerate === 'number' ? tc.framerate : src.fps
  return {
    mode, kind: 'transcoder', inputId, inputBps, outputBps, outputs,
    passthru: mode === 'passthru' && typeof stream.passthru_uuid === 'string',
    videoBps: videoKbps * 1000, width, height, sourceFps: src.fps, fps,
    format: typeof tc?.format === 'string' ? tc.format : 'h264', gopSize: num(tc?.gop_size, 60), latencyMs
  }
}
