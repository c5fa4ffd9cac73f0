import { Type, type Static } from 'typebox'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import { conflict } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { Description, Name, choice, defaulted, nullable, ref } from './fields.ts'
import { describeStream } from './rules.ts'
import { checkStreamShape } from './stream-rules.ts'

export const STREAM_MODES = ['transcoder', 'passthru', 'iorouter'] as const
export const STREAM_STATUSES = ['stopped', 'starting', 'running', 'stopping', 'error'] as const

/** Streams (kraken-api.md section 5): an input, how it is processed, and where it goes. */
export const StreamSchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  name: Name('stream'),
  mode: defaulted(choice(STREAM_MODES, { default: 'transcoder', description: 'transcoder (transcode to outputs), passthru (transcode to outputs and pass the source to passthru_uuid) or iorouter (bypass: no transcoding)' })),
  input: ref('uuid of the input'),
  transcoder: nullable(ref('uuid of a transcoder'), 'uuid of the transcoder profile; required unless mode is iorouter, null in iorouter'),
  passthru_uuid: nullable(ref('uuid of an output'), 'uuid of the output that receives the untouched source; required when mode is passthru, null otherwise; not also in outputs'),
  outputs: Type.Array(ref('uuid of an output'), { minItems: 1, uniqueItems: true, description: 'uuids of the outputs, at least one, no duplicates; an output serves one stream' }),
  metadatas: defaulted(Type.Array(ref('uuid of a metadata source'), { uniqueItems: true, default: [], description: 'uuids of the metadata sources merged into the stream, no duplicates; empty in iorouter' })),
  auto_start: defaulted(Type.Boolean({ default: false, description: 'start the stream after a reboot or a preset load' })),
  status: choice(STREAM_STATUSES, { description: 'read-only: stopped, starting, running, stopping or error' }),
  sub_status: Type.String({ maxLength: 256, description: 'read-only: empty, or the reason of the error status' }),
  description: Description,
  log_to_file: defaulted(Type.Boolean({ default: true, description: 'write the stream\'s log to a file on the device' }))
}, { additionalProperties: false })

export type Stream = Static<typeof StreamSchema>

/** A stream that is not stopped (or in error) cannot be changed or deleted (kraken-api.md section 5). */
function refuseIfActive (ctx: RuleContext, stream: Item): void {
  const runtime = ctx.request.server.kraken.runtime
  const uuid = String(stream.uuid)
  if (!runtime.isActive(uuid)) return
  const status = runtime.state(uuid).status
  throw conflict(`${describeStream(stream)} is ${status}: stop it first`, [{ field: 'status', message: `is ${status}` }])
}

/** [ours] an output serves at most one stream; an input may feed several. */
function checkOutputsFree (ctx: RuleContext, stream: Item): void {
  const mine: Array<[string, string]> = (stream.outputs as string[]).map(id => ['outputs', id])
  if (stream.passthru_uuid !== null) mine.push(['passthru_uuid', String(stream.passthru_uuid)])
  for (const [field, id] of mine) {
    const other = [...ctx.store.lookup('streams', 'outputs', id), ...ctx.store.lookup('streams', 'passthru_uuid', id)]
      .find(s => s.uuid !== stream.uuid)
    if (other === undefined) continue
    const output = `output '${String(ctx.store.get('outputs', id)?.name ?? id)}' (${id})`
    throw conflict(`${output} already serves ${describeStream(other)}`, [{ field, message: `${output} already serves ${describeStream(other)}` }])
  }
}

function validateStream (ctx: RuleContext, next: Item): void {
  checkStreamShape(next, (collection, id) => ctx.store.get(collection, id))
  checkOutputsFree(ctx, next)
}

export const streams = defineResource({
  singular: 'stream',
  plural: 'streams',
  description: 'A stream: one input, optionally transcoded, sent to its outputs',
  schema: StreamSchema,
  readOnly: ['uuid', 'status', 'sub_status'],
  summary: ['uuid', 'name', 'mode', 'input', 'transcoder', 'passthru_uuid', 'outputs', 'metadatas', 'auto_start', 'status'],
  unique: ['name'],
  references: { input: 'inputs', transcoder: 'transcoders', passthru_uuid: 'outputs', outputs: 'outputs', metadatas: 'metadata' },
  initial: () => ({ status: 'stopped' as const, sub_status: '' }),
  validate: validateStream,
  beforeChange: refuseIfActive,
  // Status lives in the runtime (memory), never in the data file: every response shows it live.
  present: (request, item) => ({ ...item, ...request.server.kraken.runtime.state(String(item.uuid)) }),
  presentVersion: request => request.server.kraken.runtime.version(),
  presentKey: (request, item) => {
    const { status, sub_status: sub } = request.server.kraken.runtime.state(String(item.uuid))
    return `${status} ${sub}`
  },
  examples: {
    // Objects of the default fixture; the spare output serves no stream there.
    create: {
      name: 'Example UAV-1 to the spare multicast',
      mode: 'transcoder',
      input: '7961d341-9dc8-4e57-96b0-161ce79fbe99',
      transcoder: '97ab9c97-6e2c-4a3e-acea-485586a56012',
      outputs: ['5b1f0c8e-7a43-4d1e-9c2b-3e8f6a0d4c71']
    },
    update: { description: 'changed from /apidoc' }
  }
})
