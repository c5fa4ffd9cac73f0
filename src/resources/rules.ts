import type { RuleContext } from '../kernel/define-resource.ts'
import { conflict, invalid } from '../kernel/errors.ts'
import type { Item, Store } from '../kernel/store.ts'

/** Rule helpers the media resources share. */

/** True when the request itself sets `field`: always on a create; on a PUT, when the body names it. */
export function sent (ctx: RuleContext, previous: Item | undefined, field: string): boolean {
  if (previous === undefined) return true
  const body: unknown = ctx.request.body
  return typeof body === 'object' && body !== null && Object.hasOwn(body, field)
}

/** A field that only means something in some configurations (an SRT port on a SRT input). */
export interface Conditional {
  field: string
  applies: (item: Item) => boolean
  /** Completes "must be null when ...". */
  when: (item: Item) => string
}

/**
 * Fields that do not apply to an item hold null. A value the request sets for one gets a 400
 * naming it; a value left over from before a PUT changed the protocol is cleared, so switching
 * an input from SRT to UDP does not require nulling every SRT field [ours].
 */
export function settle (ctx: RuleContext, next: Item, previous: Item | undefined, conditionals: readonly Conditional[]): Item {
  const out = { ...next }
  for (const c of conditionals) {
    if (out[c.field] === null || out[c.field] === undefined || c.applies(out)) continue
    if (sent(ctx, previous, c.field)) throw invalid(c.field, `must be null when ${c.when(out)}`)
    out[c.field] = null
  }
  return out
}

/** A required-in-this-configuration field. */
export function requireSet (item: Item, field: string, when: string): void {
  const value = item[field]
  if (value === null || value === undefined || value === '') throw invalid(field, `is required when ${when}`)
}

/**
 * A NIC name must name a NIC of system/network (kraken-api.md section 5). Without a network
 * singleton (a hand-made fixture) any well-formed name is accepted [ours].
 */
export function checkNic (store: Store, field: string, value: unknown, allowAuto: boolean): void {
  if (value === null || value === undefined || (allowAuto && value === 'auto')) return
  const nics = store.singleton('network')?.nics
  if (!Array.isArray(nics)) return
  const names = nics.map(n => (n as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string')
  if (!names.includes(String(value))) {
    const known = [...(allowAuto ? ['auto'] : []), ...names].join(', ')
    throw invalid(field, `names NIC '${String(value)}', which does not exist (known: ${known})`)
  }
}

/** The stream fields that point at each kind of media object. */
const STREAM_FIELDS: Readonly<Record<string, readonly string[]>> = {
  inputs: ['input'],
  outputs: ['outputs', 'passthru_uuid'],
  transcoders: ['transcoder'],
  metadata: ['metadatas']
}

/** The streams that use the object `id` of collection `plural`. */
export function streamsUsing (store: Store, plural: string, id: string): Item[] {
  const fields = STREAM_FIELDS[plural] ?? []
  const found = new Map<unknown, Item>()
  for (const field of fields) for (const stream of store.lookup('streams', field, id)) found.set(stream.uuid, stream)
  return [...found.values()]
}

export function describeStream (stream: Item): string {
  return `stream '${String(stream.name)}' (${String(stream.uuid)})`
}

/**
 * An object a running stream uses cannot be changed: the change could not reach the running
 * stream, and a running stream itself cannot be changed (kraken-api.md section 5) [ours].
 */
export function refuseIfRunningUses (ctx: RuleContext, plural: string, singular: string, id: string): void {
  const runtime = ctx.request.server.kraken.runtime
  const running = streamsUsing(ctx.store, plural, id).filter(s => runtime.isActive(String(s.uuid)))
  if (running.length === 0) return
  const names = running.map(describeStream)
  throw conflict(`${singular} is used by running ${names.join(', ')}: stop ${running.length === 1 ? 'it' : 'them'} first`,
    names.map(n => ({ field: 'uuid', message: `used by running ${n}` })))
}
