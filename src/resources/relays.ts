import { Type, type Static } from 'typebox'
import { PARENT_KEY, defineResource, type RuleContext } from '../kernel/define-resource.ts'
import { conflict } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { Ipv4, Port, ref } from './fields.ts'
import { metadata } from './metadata.ts'
import { refuseIfRunningUses } from './rules.ts'

/** CoT relay destinations of a metadata source (kraken-api.md section 5: "relay to a list of IP:port" [docs]). */
export const RelaySchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  address: Ipv4('IPv4 address (unicast or multicast) the CoT is relayed to'),
  port: Port('UDP port the CoT is relayed to, 1-65535')
}, { additionalProperties: false })

export type Relay = Static<typeof RelaySchema>

/** A relay is part of its metadata source: a running stream using that source freezes it too [ours]. */
function refuseWhileSourceRuns (ctx: RuleContext): void {
  if (ctx.parentId !== undefined) refuseIfRunningUses(ctx, 'metadata', 'the metadata source of this relay', ctx.parentId)
}

function validateRelay (ctx: RuleContext, next: Item, previous: Item | undefined): void {
  // A change is refused by beforeChange, which an unchanged PUT does not reach.
  if (previous === undefined) refuseWhileSourceRuns(ctx)
  // [ours] the same destination twice would send every event twice.
  const clash = ctx.store.list(relays.collection).find(r =>
    r[PARENT_KEY] === ctx.parentId && r.uuid !== next.uuid && r.address === next.address && r.port === next.port)
  if (clash !== undefined) {
    throw conflict(`${String(next.address)}:${String(next.port)} is already relay ${String(clash.uuid)} of this metadata source`,
      [{ field: 'address', message: 'destination already listed' }])
  }
}

export const relays = defineResource({
  singular: 'relay',
  plural: 'relays',
  label: 'CoT relay destination',
  tag: 'Metadata',
  description: 'A destination (IPv4 address and UDP port) the CoT of a metadata source is relayed to',
  schema: RelaySchema,
  parent: metadata,
  readOnly: ['uuid'],
  summary: ['uuid', 'address', 'port'],
  validate: validateRelay,
  beforeChange: (ctx) => { refuseWhileSourceRuns(ctx) },
  examples: {
    create: { address: '10.20.0.26', port: 6969 },
    update: { port: 6970 }
  }
})
