import jpeg from 'jpeg-js'
import type { Item, Store } from '../kernel/store.ts'
import { drawText, fillRect, GLYPH_HEIGHT, textWidth, type Canvas } from './pixel-font.ts'
import { nominalSource } from './stream-profile.ts'

/** The widest thumbnail: a preview, not a frame grab. */
export const MAX_THUMBNAIL_WIDTH = 640
/** The size when neither the transcoder nor the input says one [ours]. */
export const DEFAULT_FRAME = { width: 640, height: 360 } as const
/** jpeg-js quality (1-100): bars and captions stay sharp at a fraction of the bytes of 90. */
const QUALITY = 75

/**
 * The picture size of a stream: its transcoder's `width`×`height`; the input's nominal resolution
 * when the stream keeps the source's size (Bypass, or a transcoder with 0×0); 640×360 when neither
 * says (an input protocol the emulator assumes no source for, a transcoder gone).
 */
export function frameSizeOf (store: Store, stream: Item): { width: number, height: number } {
  if (stream.mode !== 'iorouter') {
    const tc = typeof stream.transcoder === 'string' ? store.get('transcoders', stream.transcoder) : undefined
    if (tc === undefined) return { ...DEFAULT_FRAME }
    if (typeof tc.width === 'number' && typeof tc.height === 'number' && tc.width > 0 && tc.height > 0) return { width: tc.width, height: tc.height }
  }
  const input = typeof stream.input === 'string' ? store.get('inputs', stream.input) : undefined
  const source = nominalSource(input?.protocol)
  return source === undefined ? { ...DEFAULT_FRAME } : { width: source.width, height: source.height }
}

/** The thumbnail's size for a picture: at most 640 px wide, the aspect kept, never upscaled. */
export function thumbnailSize (frame: { width: number, height: number }): { width: number, height: number } {
  if (frame.width <= MAX_THUMBNAIL_WIDTH) return { width: frame.width, height: frame.height }
  return { width: MAX_THUMBNAIL_WIDTH, height: Math.max(1, Math.round(frame.height * MAX_THUMBNAIL_WIDTH / frame.width)) }
}

/** `HH:MM:SS:FF` of a device time (UTC), FF the frame within the second at `fps`. */
export function timecode (ms: number, fps: number): string {
  const day = ((ms % 86_400_000) + 86_400_000) % 86_400_000
  const pad = (n: number): string => String(n).padStart(2, '0')
  const frame = Math.floor((day % 1000) * Math.max(1, fps) / 1000)
  return `${pad(Math.floor(day / 3_600_000))}:${pad(Math.floor(day / 60_000) % 60)}:${pad(Math.floor(day / 1000) % 60)}:${pad(frame)}`
}

export interface ThumbnailSpec {
  width: number
  height: number
  /** The stream's name (any text: drawn in the embedded font, cut to fit). */
  name: string
  /** Its picture size as `1280x720`. */
  resolution: string
  /** Undefined: the grey "no signal" frame (with `status` in it); else the test pattern with this timecode. */
  timecode?: string
  status: string
}

// 75 % SMPTE colour bars: white, yellow, cyan, green, magenta, red, blue.
const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [191, 191, 191], [191, 191, 0], [0, 191, 191], [0, 191, 0], [191, 0, 191], [191, 0, 0], [0, 0, 191]
]
const WHITE = [235, 235, 235] as const
const BLACK = [16, 16, 16] as const
const GREY = [128, 128, 128] as const
const DARK = [64, 64, 64] as const

/** Renders a thumbnail as a baseline JPEG. */
export function renderThumbnail (spec: ThumbnailSpec): Buffer {
  const { width, height } = spec
  const canvas: Canvas = { width, height, data: Buffer.alloc(width * height * 4) }
  if (spec.timecode === undefined) noSignal(canvas, spec)
  else testPattern(canvas, spec, spec.timecode)
  return jpeg.encode(canvas, QUALITY).data
}

/** The caption scale: as large as fits `lines` lines in `band` pixels, 1 at the least. */
function scaleFor (width: number, band: number, lines: number): number {
  return Math.max(1, Math.min(Math.floor(width / 160), Math.floor(band / (lines * (GLYPH_HEIGHT + 3)))))
}

/** Cuts `text` to what fits in `width` pixels at `scale`, ending in '..' when cut. */
function fit (text: string, width: number, scale: number): string {
  const chars = [...text]
  if (textWidth(text, scale) <= width) return text
  let kept = chars
  while (kept.length > 0 && textWidth(`${kept.join('')}..`, scale) > width) kept = kept.slice(0, -1)
  return `${kept.join('')}..`
}

function centred (canvas: Canvas, text: string, y: number, scale: number, rgb: readonly [number, number, number]): void {
  const line = fit(text, canvas.width - 2 * scale, scale)
  drawText(canvas, line, Math.floor((canvas.width - textWidth(line, scale)) / 2), y, scale, rgb)
}

function testPattern (canvas: Canvas, spec: ThumbnailSpec, code: string): void {
  const { width, height } = canvas
  const barsHeight = Math.round(height * 2 / 3)
  BARS.forEach((rgb, i) => {
    const x0 = Math.round(i * width / BARS.length)
    fillRect(canvas, x0, 0, Math.round((i + 1) * width / BARS.length) - x0, barsHeight, rgb)
  })
  fillRect(canvas, 0, barsHeight, width, height - barsHeight, BLACK)
  const band = height - barsHeight
  const scale = scaleFor(width, band, 3)
  const lineHeight = (GLYPH_HEIGHT + 3) * scale
  const top = barsHeight + Math.max(0, Math.floor((band - 3 * lineHeight) / 2)) + scale
  centred(canvas, spec.name, top, scale, WHITE)
  centred(canvas, spec.resolution, top + lineHeight, scale, WHITE)
  centred(canvas, code, top + 2 * lineHeight, scale, WHITE)
}

function noSignal (canvas: Canvas, spec: ThumbnailSpec): void {
  const { width, height } = canvas
  fillRect(canvas, 0, 0, width, height, GREY)
  const big = scaleFor(width, Math.floor(height / 3), 1)
  const small = Math.max(1, Math.floor(big / 2))
  const y = Math.floor(height / 2 - GLYPH_HEIGHT * big)
  centred(canvas, 'NO SIGNAL', y, big, WHITE)
  centred(canvas, spec.name, y + (GLYPH_HEIGHT + 4) * big, small, DARK)
  centred(canvas, `${spec.resolution} ${spec.status}`, y + (GLYPH_HEIGHT + 4) * big + (GLYPH_HEIGHT + 3) * small, small, DARK)
}
