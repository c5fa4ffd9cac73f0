import { Type, type Static } from 'typebox'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import { invalid } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { Name, choice, defaulted, nullable, ref } from './fields.ts'
import { refuseIfRunningUses } from './rules.ts'

/** Transcoder profiles (kraken-api.md section 5). */
export const TranscoderSchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  name: Name('transcoder'),
  format: defaulted(choice(['h264', 'hevc'], { default: 'h264', description: 'video codec: h264 or hevc' })),
  video_bitrate: defaulted(Type.Integer({ minimum: 100, maximum: 20000, default: 2000, description: 'video bitrate in kbps, 100-20000' })),
  width: defaulted(Type.Integer({ minimum: 0, maximum: 1920, default: 0, description: 'output width in pixels: 0 keeps the source, else an even number 128-1920; 0 only together with height 0' })),
  height: defaulted(Type.Integer({ minimum: 0, maximum: 1080, default: 0, description: 'output height in pixels: 0 keeps the source, else an even number 96-1080; 0 only together with width 0' })),
  framerate: defaulted(Type.Union([Type.Literal('auto'), Type.Number({ minimum: 1, maximum: 60 })], { default: 'auto', description: 'frames per second: "auto" (the source\'s) or 1-60' })),
  gop_size: defaulted(Type.Integer({ minimum: 1, maximum: 300, default: 60, description: 'frames between key frames, 1-300' })),
  audio_bitrate: defaulted(Type.Integer({ minimum: 0, maximum: 320, default: 128, description: 'audio bitrate in kbps: 0 turns audio off, else 32-320' })),
  klv_passthrough: defaulted(Type.Boolean({ default: true, description: 'pass KLV metadata from the input through to the outputs' })),
  klv_decimation: defaulted(Type.Integer({ minimum: 1, maximum: 60, default: 1, description: 'keep one KLV packet in N, 1-60' })),
  ts_shaping: defaulted(Type.Boolean({ default: false, description: 'shape the transport stream to a constant ts_bitrate' })),
  ts_bitrate: nullable(Type.Integer({ minimum: 100, maximum: 40000, description: 'kbps, 100-40000' }),
    'transport stream bitrate in kbps when ts_shaping; at least video_bitrate + audio_bitrate, plus 200 when klv_passthrough; required when ts_shaping'),
  video_max_bitrate_pct: defaulted(Type.Integer({ minimum: 50, maximum: 150, default: 100, description: 'peak video bitrate as a percentage of video_bitrate, 50-150' }))
}, { additionalProperties: false })

export type Transcoder = Static<typeof TranscoderSchema>

function checkDimension (item: Item, field: 'width' | 'height', min: number, max: number): void {
  const value = item[field] as number
  if (value === 0) return
  if (value < min || value > max) throw invalid(field, `must be 0 (keep the source) or ${min}-${max}`)
  if (value % 2 !== 0) throw invalid(field, 'must be even (4:2:0 video has 2x2 chroma blocks)')
}

function validateTranscoder (_ctx: RuleContext, next: Item): void {
  checkDimension(next, 'width', 128, 1920)
  checkDimension(next, 'height', 96, 1080)
  // [ours] one axis kept and the other scaled would distort the picture.
  if ((next.width === 0) !== (next.height === 0)) {
    throw invalid(next.width === 0 ? 'width' : 'height', 'must be 0 only when the other dimension is 0 too (both 0 keep the source size)')
  }
  const audio = next.audio_bitrate as number
  if (audio !== 0 && audio < 32) throw invalid('audio_bitrate', 'must be 0 (audio off) or 32-320')
  if (next.ts_shaping === true) {
    if (next.ts_bitrate === null) throw invalid('ts_bitrate', 'is required when ts_shaping is true')
    // [docs] the shaped TS must carry the video, the audio and, if KLV passes through, 200 kbps more.
    const klv = next.klv_passthrough === true ? 200 : 0
    const least = (next.video_bitrate as number) + audio + klv
    if ((next.ts_bitrate as number) < least) {
      throw invalid('ts_bitrate', `must be at least ${least} kbps (video_bitrate ${String(next.video_bitrate)} + audio_bitrate ${audio}${klv === 0 ? '' : ' + 200 for KLV passthrough'}) when ts_shaping is true`)
    }
  }
}

export const transcoders = defineResource({
  singular: 'transcoder',
  plural: 'transcoders',
  description: 'A transcoding profile: codec, resolution, bitrates, KLV handling and TS shaping',
  schema: TranscoderSchema,
  readOnly: ['uuid'],
  summary: ['uuid', 'name', 'format', 'video_bitrate', 'width', 'height'],
  unique: ['name'],
  validate: validateTranscoder,
  beforeChange: (ctx, previous) => refuseIfRunningUses(ctx, 'transcoders', 'transcoder', String(previous.uuid)),
  examples: {
    create: { name: 'Example H.264 720p 2.5 Mbps', format: 'h264', video_bitrate: 2500, width: 1280, height: 720, framerate: 30 },
    update: { gop_size: 30 }
  }
})
