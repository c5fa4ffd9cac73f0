import { Type, type Static } from 'typebox'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import { conflict, invalid } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { Ipv4, NIC_PATTERN, Url, choice, defaulted, nullable, ref, srtFields } from './fields.ts'
import { checkNic, refuseIfRunningUses, settle, type Conditional } from './rules.ts'
import { checkSrt, checkSrtPortFree, completeSrt, srtConditionals } from './srt.ts'
import { checkStreamsAccept } from './stream-rules.ts'
import { checkUrl, hostPort, isMulticast, type UrlShape } from './urls.ts'

export const INPUT_PROTOCOLS = ['ts_udp', 'ts_srt', 'rtsp', 'rtmp', 'mjpeg'] as const
type InputProtocol = typeof INPUT_PROTOCOLS[number]

/** Inputs (kraken-api.md section 5). */
export const InputSchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  name: defaulted(Type.String({ maxLength: 64, default: '', description: 'name, up to 64 characters, unique among inputs; when empty the url (its first 64 characters) becomes the name' })),
  protocol: defaulted(choice(INPUT_PROTOCOLS, { default: 'ts_udp', description: 'ts_udp (MPEG-TS over UDP), ts_srt, rtsp, rtmp or mjpeg' })),
  url: Url('where the input comes from, up to 256 characters: udp://<address>:<port> for ts_udp and mjpeg, rtsp://... for rtsp, rtmp://... for rtmp; for ts_srt derived from the SRT settings (what is sent is replaced)'),
  network_interface: nullable(Type.String({ pattern: NIC_PATTERN, description: 'a NIC name of system/network' }),
    'NIC that receives a ts_udp input (null = the default route); ts_udp only, null otherwise'),
  ssm_source: nullable(Ipv4('IPv4 address of the only sender accepted'),
    'source-specific multicast: the sender\'s IPv4 address, for a multicast url; ts_udp and mjpeg only, null otherwise'),
  rtsp_transport: nullable(choice(['tcp', 'udp_multicast', 'http'], { description: 'tcp, udp_multicast or http' }),
    'RTSP transport; tcp when null on an rtsp input; rtsp only, null otherwise'),
  ...srtFields()
}, { additionalProperties: false })

export type Input = Static<typeof InputSchema>

const URL_SHAPES: Readonly<Record<Exclude<InputProtocol, 'ts_srt'>, UrlShape>> = {
  ts_udp: { kind: 'host-port', scheme: 'udp' },
  mjpeg: { kind: 'host-port', scheme: 'udp' },
  rtsp: { kind: 'uri', schemes: ['rtsp'] },
  rtmp: { kind: 'uri', schemes: ['rtmp'] }
}

const protocolIs = (item: Item): string => `protocol is ${String(item.protocol)}`
const CONDITIONALS: readonly Conditional[] = [
  { field: 'network_interface', applies: i => i.protocol === 'ts_udp', when: protocolIs },
  { field: 'ssm_source', applies: i => i.protocol === 'ts_udp' || i.protocol === 'mjpeg', when: protocolIs },
  { field: 'rtsp_transport', applies: i => i.protocol === 'rtsp', when: protocolIs },
  ...srtConditionals()
]

/** The item as it will be stored: protocol defaults filled, fields of other protocols null, name derived. */
function completeInput (ctx: RuleContext, next: Item, previous: Item | undefined): Item {
  let item = completeSrt(next)
  if (item.protocol === 'rtsp' && item.rtsp_transport === null) item = { ...item, rtsp_transport: 'tcp' }
  item = settle(ctx, item, previous, CONDITIONALS)
  // [docs] an input without a name is named after its url.
  if (item.name === '' && typeof item.url === 'string') item = { ...item, name: item.url.slice(0, 64) }
  return item
}

function validateInput (ctx: RuleContext, next: Item, previous: Item | undefined): void {
  const item = completeInput(ctx, next, previous)
  const protocol = item.protocol as InputProtocol
  if (protocol !== 'ts_srt') checkUrl('url', item.url, URL_SHAPES[protocol], protocol)
  checkNic(ctx.store, 'network_interface', item.network_interface, false)
  if (item.ssm_source !== null && !isMulticast(hostPort(String(item.url))?.host ?? '')) {
    throw invalid('ssm_source', 'needs a multicast url (224.0.0.0-239.255.255.255)')
  }
  checkSrt(item)
  if (next.name === '') {
    // The kernel checks names the client gives; a name taken from the url is checked here.
    const clash = ctx.store.lookup('inputs', 'name', item.name).find(other => other.uuid !== item.uuid)
    if (clash !== undefined) {
      throw conflict(`name '${String(item.name)}' (taken from the url because name is empty) is already used by input ${String(clash.uuid)}`,
        [{ field: 'name', message: 'must be unique' }])
    }
  }
  checkSrtPortFree(ctx, item, 'input')
  if (previous !== undefined) checkStreamsAccept(ctx, 'inputs', item)
}

export const inputs = defineResource({
  singular: 'input',
  plural: 'inputs',
  description: 'A source of video: TS over UDP or SRT, an RTSP camera, an RTMP feed or MJPEG over UDP',
  schema: InputSchema,
  readOnly: ['uuid'],
  writeOnly: ['srt_passphrase'],
  summary: ['uuid', 'name', 'protocol', 'url'],
  unique: ['name'],
  validate: validateInput,
  beforeChange: (ctx, previous) => refuseIfRunningUses(ctx, 'inputs', 'input', String(previous.uuid)),
  toStored: (ctx, next, previous) => completeInput(ctx, next, previous),
  examples: {
    create: { name: 'Example UAV-2 FMV (TS/UDP multicast)', protocol: 'ts_udp', url: 'udp://239.10.20.2:5000' },
    update: { url: 'udp://239.10.20.3:5000' }
  }
})
