import type { RuleContext } from '../kernel/define-resource.ts'
import { conflict, invalid } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { SRT_DEFAULTS } from './fields.ts'
import { requireSet, type Conditional } from './rules.ts'

/** The SRT block shared by inputs and outputs (kraken-api.md section 5). */

export const isSrt = (item: Item): boolean => item.protocol === 'ts_srt'
const protocolIs = (item: Item): string => `protocol is ${String(item.protocol)}`

/** Every SRT field holds null unless the protocol is ts_srt; the passphrase also needs encryption. */
export function srtConditionals (extra: readonly string[] = []): Conditional[] {
  return [
    ...['srt_mode', 'srt_address', 'srt_port', 'srt_latency', 'srt_encryption', ...extra].map(field => ({ field, applies: isSrt, when: protocolIs })),
    {
      field: 'srt_passphrase',
      applies: (item: Item) => isSrt(item) && item.srt_encryption !== 'none',
      when: (item: Item) => isSrt(item) ? 'srt_encryption is none' : protocolIs(item)
    }
  ]
}

/**
 * On a ts_srt item, null SRT settings take their defaults, and `url` is derived from the block
 * (`srt://<address>:<port>?mode=<mode>`) so lists still show where the stream comes from; a url
 * sent for a ts_srt item is replaced [ours].
 */
export function completeSrt (item: Item, extraDefaults: Readonly<Record<string, unknown>> = {}): Item {
  if (!isSrt(item)) return item
  const out = { ...item }
  for (const [field, value] of Object.entries({ ...SRT_DEFAULTS, ...extraDefaults })) {
    if (out[field] === null || out[field] === undefined) out[field] = value
  }
  if (typeof out.srt_port === 'number') {
    const host = typeof out.srt_address === 'string' ? out.srt_address : '0.0.0.0'
    out.url = `srt://${host}:${out.srt_port}?mode=${String(out.srt_mode)}`
  }
  return out
}

/** The rules of a completed ts_srt item. */
export function checkSrt (item: Item): void {
  if (!isSrt(item)) return
  requireSet(item, 'srt_port', 'protocol is ts_srt')
  if (item.srt_mode !== 'listener') requireSet(item, 'srt_address', `srt_mode is ${String(item.srt_mode)}`)
  if (item.srt_encryption !== 'none' && (item.srt_passphrase === null || item.srt_passphrase === undefined)) {
    throw invalid('srt_passphrase', `is required when srt_encryption is ${String(item.srt_encryption)}`)
  }
}

const bindsPort = (item: Item): boolean => isSrt(item) && item.srt_mode !== 'caller'

/**
 * Two SRT listeners (or rendezvous peers) of the device cannot bind the same local port, whether
 * inputs or outputs [ours: what a socket would refuse].
 */
export function checkSrtPortFree (ctx: RuleContext, item: Item, kind: string): void {
  if (!bindsPort(item)) return
  for (const collection of ['inputs', 'outputs']) {
    for (const other of ctx.store.lookup(collection, 'srt_port', item.srt_port)) {
      if (other.uuid === item.uuid || !bindsPort(other)) continue
      if (other.srt_address !== null && item.srt_address !== null && other.srt_address !== item.srt_address) continue
      const what = `${collection.slice(0, -1)} '${String(other.name)}' (${String(other.uuid)})`
      throw conflict(`srt_port ${String(item.srt_port)} of this ${kind} is already bound by ${what}`, [{ field: 'srt_port', message: `already bound by ${what}` }])
    }
  }
}
