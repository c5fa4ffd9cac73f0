import { Type, type Static } from 'typebox'
import { iso31661 } from 'iso-3166/1.js'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import { conflict, invalid } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { Ipv4, Name, Port, Tos, Ttl, choice, defaulted, nullable, ref } from './fields.ts'
import { refuseIfRunningUses, requireSet, settle, type Conditional } from './rules.ts'
import { isMulticast } from './urls.ts'

/** [docs] the device listens for at most this many network metadata sources. */
export const MAX_NETWORK_SOURCES = 8

export const CLASSIFICATIONS = ['Unclassified', 'Restricted', 'Confidential', 'Secret', 'Top Secret'] as const

const SECURITY_DEFAULT = { enabled: false, classification: 'Unclassified', classifying_country: '', object_countries: [] }

/** The MISB ST 0102 security set written into the KLV [docs]. */
const SecuritySet = Type.Object({
  enabled: defaulted(Type.Boolean({ default: false, description: 'insert the security set' })),
  classification: defaulted(choice(CLASSIFICATIONS, { default: 'Unclassified', description: 'Unclassified, Restricted, Confidential, Secret or Top Secret' })),
  classifying_country: defaulted(Type.String({ pattern: '^([A-Z]{3})?$', default: '', description: 'ISO 3166-1 alpha-3 code of the classifying country (USA, CAN, ...); required when enabled' })),
  object_countries: defaulted(Type.Array(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 3166-1 alpha-3 code' }),
    { maxItems: 6, uniqueItems: true, default: [], description: 'ISO 3166-1 alpha-3 codes of the countries the video is about, up to 6' }))
}, { additionalProperties: false, default: SECURITY_DEFAULT, description: 'security metadata set; replaced as a whole by a PUT (omitted sub-fields take their defaults)' })

/** Metadata sources (kraken-api.md section 5). */
export const MetadataSchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  name: Name('metadata source'),
  input_method: defaulted(choice(['video_source', 'network'], { default: 'video_source', description: 'video_source (KLV carried by the stream\'s input) or network (received over UDP)' })),
  data_format: defaulted(choice(['klv', 'cot'], { default: 'klv', description: 'klv (MISB ST 0601) or cot (Cursor on Target); video_source sources are klv' })),
  udp_port: nullable(Port('UDP port, 1-65535'), 'UDP port the source is received on; required for network, null for video_source'),
  multicast_address: nullable(Ipv4('IPv4 multicast address, 224.0.0.0-239.255.255.255'), 'multicast group to join (null = unicast); network only, null for video_source'),
  cot_max_spi_delta_ms: defaulted(Type.Integer({ minimum: 0, maximum: 60000, default: 0, description: 'largest age in ms of a CoT sensor point of interest still merged into the KLV, 0-60000 (0 = no limit)' })),
  cot_spi_uid: nullable(Type.String({ minLength: 1, maxLength: 128, description: '1-128 characters' }), 'uid of the CoT events taken as the sensor point of interest (null = any)'),
  cot_relay_enabled: defaulted(Type.Boolean({ default: false, description: 'relay received CoT to the relay destinations (cot sources only)' })),
  relay_ttl: Ttl,
  relay_tos: Tos,
  mission_id: defaulted(Type.String({ maxLength: 127, default: '', description: 'mission id written into the KLV, up to 127 characters' })),
  platform_call_sign: defaulted(Type.String({ maxLength: 127, default: '', description: 'platform call sign written into the KLV, up to 127 characters' })),
  security_set: defaulted(SecuritySet)
}, { additionalProperties: false })

export type Metadata = Static<typeof MetadataSchema>

const CONDITIONALS: readonly Conditional[] = ['udp_port', 'multicast_address'].map(field => ({
  field, applies: (i: Item) => i.input_method === 'network', when: (i: Item) => `input_method is ${String(i.input_method)}`
}))

const isNetwork = (item: Item): boolean => item.input_method === 'network'

/** The assigned ISO 3166-1 alpha-3 codes, from a maintained list rather than one typed here. */
export const COUNTRY_CODES: ReadonlySet<string> = new Set(iso31661.map(c => c.alpha3))

/** Every country of a security set is an assigned ISO 3166-1 alpha-3 code [docs: ISO-3166 alpha-3]. */
function checkCountries (security: Metadata['security_set']): void {
  if (security === undefined) return
  const code = security.classifying_country
  if (code !== undefined && code !== '' && !COUNTRY_CODES.has(code)) {
    throw invalid('security_set.classifying_country', `'${code}' is not an ISO 3166-1 alpha-3 country code (such as USA, CAN, GBR)`)
  }
  const unknown = (security.object_countries ?? []).find(c => !COUNTRY_CODES.has(c))
  if (unknown !== undefined) {
    throw invalid('security_set.object_countries', `'${unknown}' is not an ISO 3166-1 alpha-3 country code (such as USA, CAN, GBR)`)
  }
}

function validateMetadata (ctx: RuleContext, next: Item, previous: Item | undefined): void {
  const item = settle(ctx, next, previous, CONDITIONALS)
  if (item.input_method === 'video_source' && item.data_format !== 'klv') throw invalid('data_format', 'must be klv when input_method is video_source')
  if (isNetwork(item)) requireSet(item, 'udp_port', 'input_method is network')
  if (item.multicast_address !== null && !isMulticast(String(item.multicast_address))) {
    throw invalid('multicast_address', 'must be a multicast address (224.0.0.0-239.255.255.255)')
  }
  if (item.cot_relay_enabled === true && item.data_format !== 'cot') throw invalid('cot_relay_enabled', 'must be false unless data_format is cot')
  const security = item.security_set as Metadata['security_set']
  if (security?.enabled === true && security.classifying_country === '') {
    throw invalid('security_set.classifying_country', 'is required when security_set.enabled is true')
  }
  checkCountries(security)
  if (!isNetwork(item)) return
  const others = ctx.store.list('metadata').filter(m => m.uuid !== item.uuid && isNetwork(m))
  if (others.length >= MAX_NETWORK_SOURCES) {
    throw conflict(`the device takes at most ${MAX_NETWORK_SOURCES} network metadata sources; delete one first`,
      [{ field: 'input_method', message: `at most ${MAX_NETWORK_SOURCES} network sources` }])
  }
  // [ours] two sources cannot receive the same port unless they join different groups.
  const clash = others.find(m => m.udp_port === item.udp_port &&
    (m.multicast_address === null || item.multicast_address === null || m.multicast_address === item.multicast_address))
  if (clash !== undefined) {
    const what = `metadata source '${String(clash.name)}' (${String(clash.uuid)})`
    throw conflict(`udp_port ${String(item.udp_port)} is already received by ${what}`, [{ field: 'udp_port', message: `already received by ${what}` }])
  }
}

export const metadata = defineResource({
  singular: 'metadata',
  plural: 'metadata',
  label: 'metadata source',
  tag: 'Metadata',
  description: 'A metadata source: KLV from the video or KLV/CoT over the network',
  schema: MetadataSchema,
  readOnly: ['uuid'],
  summary: ['uuid', 'name', 'input_method', 'data_format'],
  unique: ['name'],
  validate: validateMetadata,
  beforeChange: (ctx, previous) => refuseIfRunningUses(ctx, 'metadata', 'metadata source', String(previous.uuid)),
  toStored: (ctx, next, previous) => settle(ctx, next, previous, CONDITIONALS),
  examples: {
    create: { name: 'Example UAV-2 KLV (UDP)', input_method: 'network', data_format: 'klv', udp_port: 6001, mission_id: 'EXAMPLE-01' },
    update: { mission_id: 'EXAMPLE-02' }
  }
})
