import { KrakenError, conflict, invalid } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import type { RuleContext } from '../kernel/define-resource.ts'
import { describeStream, streamsUsing } from './rules.ts'

/**
 * The rules between a stream's mode and the objects it uses (kraken-api.md section 5 [docs]).
 * They depend on the protocols of the input and outputs too, so inputs and outputs run them
 * again for the streams that use them before a change of protocol is accepted.
 */
export type Lookup = (collection: string, id: string) => Item | undefined

const label = (item: Item | undefined, id: unknown): string => `'${String(item?.name ?? id)}'`

/** Throws a 400 naming the stream field at fault. */
export function checkStreamShape (stream: Item, lookup: Lookup): void {
  const mode = String(stream.mode)
  const outputs = (stream.outputs as string[]).map(id => ({ id, item: lookup('outputs', id) }))
  const passthruId = stream.passthru_uuid as string | null
  const passthru = passthruId === null ? undefined : { id: passthruId, item: lookup('outputs', passthruId) }
  const metadatas = stream.metadatas as string[]

  if (mode === 'iorouter') {
    if (stream.transcoder !== null) throw invalid('transcoder', 'must be null when mode is iorouter')
    if (metadatas.length > 0) throw invalid('metadatas', 'must be empty when mode is iorouter')
  } else if (stream.transcoder === null) {
    throw invalid('transcoder', `is required when mode is ${mode}`)
  }
  if (mode === 'passthru') {
    if (passthruId === null) throw invalid('passthru_uuid', 'is required when mode is passthru')
    if (outputs.some(o => o.id === passthruId)) throw invalid('passthru_uuid', 'must not also be in outputs')
  } else if (passthruId !== null) {
    throw invalid('passthru_uuid', `must be null when mode is ${mode}`)
  }

  const input = lookup('inputs', String(stream.input))
  const inputProtocol = input?.protocol
  if (inputProtocol === 'rtmp' && mode !== 'iorouter') throw invalid('mode', `must be iorouter when the input ${label(input, stream.input)} is RTMP`)
  if (inputProtocol === 'rtsp' && mode === 'passthru') throw invalid('mode', `cannot be passthru when the input ${label(input, stream.input)} is RTSP (use transcoder or iorouter)`)
  for (const o of passthru === undefined ? outputs : [...outputs, passthru]) {
    const field = o === passthru ? 'passthru_uuid' : 'outputs'
    if (o.item?.protocol === 'rtmp' && mode !== 'iorouter') throw invalid('mode', `must be iorouter when output ${label(o.item, o.id)} is RTMP`)
    if (o.item?.protocol === 'ts_segment_archive' && mode !== 'iorouter') {
      throw invalid(field, `output ${label(o.item, o.id)} is a ts_segment_archive output, allowed only when mode is iorouter`)
    }
  }
}

/**
 * Refuses a change to an input or output that would leave a stream using it breaking the rules
 * above (say, an output turned into RTMP under a transcoder stream) [ours].
 */
export function checkStreamsAccept (ctx: RuleContext, plural: string, item: Item): void {
  const lookup: Lookup = (collection, id) => collection === plural && id === item.uuid ? item : ctx.store.get(collection, id)
  for (const stream of streamsUsing(ctx.store, plural, String(item.uuid))) {
    try {
      checkStreamShape(stream, lookup)
    } catch (error) {
      if (!(error instanceof KrakenError)) throw error
      const message = `would break ${describeStream(stream)}: ${error.message}`
      throw conflict(`protocol ${String(item.protocol)} ${message}`, [{ field: 'protocol', message }])
    }
  }
}
