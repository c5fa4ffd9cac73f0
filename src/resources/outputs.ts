import { Type, type Static } from 'typebox'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import type { Item } from '../kernel/store.ts'
import { NIC_PATTERN, Name, Tos, Ttl, Url, choice, defaulted, nullable, ref, srtFields } from './fields.ts'
import { checkNic, refuseIfRunningUses, requireSet, settle, type Conditional } from './rules.ts'
import { checkSrt, checkSrtPortFree, completeSrt, srtConditionals } from './srt.ts'
import { checkStreamsAccept } from './stream-rules.ts'
import { checkUrl, type UrlShape } from './urls.ts'

export const OUTPUT_PROTOCOLS = ['ts_udp', 'ts_srt', 'ts_tcp', 'rtmp', 'rtsp', 'hls', 'ts_segment_archive'] as const
type OutputProtocol = typeof OUTPUT_PROTOCOLS[number]

/** Outputs (kraken-api.md section 5). */
export const OutputSchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  name: Name('output'),
  protocol: defaulted(choice(OUTPUT_PROTOCOLS, { default: 'ts_udp', description: 'ts_udp, ts_srt, ts_tcp, rtmp, rtsp, hls or ts_segment_archive (recording in segments, iorouter streams only)' })),
  url: Url('where the output goes, up to 256 characters. Required for udp://<address>:<port> (ts_udp), tcp://<address>:<port> or tcp://:<port> to listen (ts_tcp), rtmp://... (rtmp), rtsp://... (rtsp push). Derived when empty for rtsp pull (rtsp://<device>:<rtsp_port>/<uuid>) and hls (https://<device>/hls/<uuid>/index.m3u8); always derived for ts_srt (from the SRT settings) and ts_segment_archive (<archive location path>/<uuid>): what is sent is replaced'),
  archive_location: nullable(ref('uuid of an archive location'), 'ts_segment_archive only (required there, null otherwise): uuid of the archive location the recording goes to'),
  network_interface: defaulted(Type.String({ pattern: NIC_PATTERN, default: 'auto', description: 'NIC that sends the output: auto (the routing table decides) or a NIC name of system/network' })),
  mtu: defaulted(Type.Integer({ minimum: 576, maximum: 9000, default: 1500, description: 'largest IP packet sent, 576-9000 bytes' })),
  ttl: Ttl,
  tos: Tos,
  sap_enabled: defaulted(Type.Boolean({ default: false, description: 'announce the output with SAP (Session Announcement Protocol)' })),
  rtsp_direction: nullable(choice(['push', 'pull'], { description: 'push (to the server in url) or pull (served by the device at url)' }),
    'RTSP direction; push when null on an rtsp output; rtsp only, null otherwise'),
  ...srtFields(),
  srt_overhead: nullable(Type.Integer({ minimum: 5, maximum: 100, description: 'percent, 5-100' }),
    'SRT bandwidth overhead for retransmissions in %, 5-100; 25 when null on a ts_srt output; null for other protocols')
}, { additionalProperties: false })

export type Output = Static<typeof OutputSchema>

/**
 * The url shape of each protocol (kraken-api.md section 5). Required for ts_udp, ts_tcp, rtmp and
 * RTSP push; RTSP pull, HLS and archives get a derived one when none is given (deriveUrl).
 */
const URL_SHAPES: Readonly<Record<Exclude<OutputProtocol, 'ts_srt' | 'ts_segment_archive'>, UrlShape>> = {
  ts_udp: { kind: 'host-port', scheme: 'udp' },
  ts_tcp: { kind: 'host-port', scheme: 'tcp' },
  rtmp: { kind: 'uri', schemes: ['rtmp'] },
  rtsp: { kind: 'uri', schemes: ['rtsp'] },
  hls: { kind: 'uri', schemes: ['http', 'https'] }
}

/**
 * The address of the device as a client reaches it: the output's NIC, else the first NIC with an
 * address, from system/network [ours]. Without one (a hand-made fixture) `localhost`.
 */
function deviceAddress (ctx: RuleContext, item: Item): string {
  const nics = ctx.store.singleton('network')?.nics
  const list = Array.isArray(nics) ? nics as Array<{ name?: unknown, ipAddress?: unknown }> : []
  const addressed = list.filter(n => typeof n.ipAddress === 'string' && n.ipAddress !== '')
  const nic = addressed.find(n => n.name === item.network_interface) ?? addressed[0]
  return nic === undefined ? 'localhost' : String(nic.ipAddress)
}

/** The RTSP server's port (system/services rtspserver), 554 by default [docs]. */
function rtspPort (ctx: RuleContext): number {
  const port = (ctx.store.singleton('services')?.rtspserver as { rtsp_port?: unknown } | undefined)?.rtsp_port
  return typeof port === 'number' ? port : 554
}

/**
 * Outputs the device serves or places itself need no url: without one, RTSP pull and HLS get the
 * address the device serves them at, and a segment archive a folder of its own; the url shows it,
 * as a ts_srt url shows the SRT settings. A url given for them is kept (it names the path the
 * device serves, or the archive's place) [ours].
 */
function deriveUrl (ctx: RuleContext, item: Item): Item {
  if (item.protocol === 'ts_segment_archive') return archiveUrl(ctx, item)
  if (item.url !== '' && item.url !== undefined && item.url !== null) return item
  const uuid = String(item.uuid)
  if (item.protocol === 'rtsp' && item.rtsp_direction === 'pull') return { ...item, url: `rtsp://${deviceAddress(ctx, item)}:${rtspPort(ctx)}/${uuid}` }
  if (item.protocol === 'hls') return { ...item, url: `https://${deviceAddress(ctx, item)}/hls/${uuid}/index.m3u8` }
  return item
}

/**
 * A recording output writes into a folder of its own under its archive location's path; the url
 * shows it, as the location's path is at this write (version 3 of the data file) [ours].
 */
function archiveUrl (ctx: RuleContext, item: Item): Item {
  const location = typeof item.archive_location === 'string' ? ctx.store.get('archive_locations', item.archive_location) : undefined
  if (location === undefined) return item
  return { ...item, url: `${String(location.path).replace(/\/+$/, '')}/${String(item.uuid)}` }
}

const CONDITIONALS: readonly Conditional[] = [
  { field: 'rtsp_direction', applies: i => i.protocol === 'rtsp', when: i => `protocol is ${String(i.protocol)}` },
  { field: 'archive_location', applies: i => i.protocol === 'ts_segment_archive', when: i => `protocol is ${String(i.protocol)}` },
  ...srtConditionals(['srt_overhead'])
]

/** The item as it will be stored: protocol defaults filled, fields of other protocols null. */
function completeOutput (ctx: RuleContext, next: Item, previous: Item | undefined): Item {
  let item = completeSrt(next, { srt_overhead: 25 })
  if (item.protocol === 'rtsp' && item.rtsp_direction === null) item = { ...item, rtsp_direction: 'push' }
  return deriveUrl(ctx, settle(ctx, item, previous, CONDITIONALS))
}

function validateOutput (ctx: RuleContext, next: Item, previous: Item | undefined): void {
  const item = completeOutput(ctx, next, previous)
  const protocol = item.protocol as OutputProtocol
  if (protocol === 'ts_segment_archive') requireSet(item, 'archive_location', 'protocol is ts_segment_archive')
  else if (protocol !== 'ts_srt') checkUrl('url', item.url, URL_SHAPES[protocol], protocol === 'rtsp' ? `rtsp (${String(item.rtsp_direction)})` : protocol)
  checkNic(ctx.store, 'network_interface', item.network_interface, true)
  checkSrt(item)
  checkSrtPortFree(ctx, item, 'output')
  if (previous !== undefined) checkStreamsAccept(ctx, 'outputs', item)
}

export const outputs = defineResource({
  singular: 'output',
  plural: 'outputs',
  description: 'A destination of a stream: TS over UDP, SRT or TCP, RTMP, RTSP, HLS or a segment archive',
  schema: OutputSchema,
  readOnly: ['uuid'],
  writeOnly: ['srt_passphrase'],
  summary: ['uuid', 'name', 'protocol', 'url'],
  unique: ['name'],
  references: { archive_location: 'archive_locations' },
  validate: validateOutput,
  beforeChange: (ctx, previous) => refuseIfRunningUses(ctx, 'outputs', 'output', String(previous.uuid)),
  toStored: (ctx, next, previous) => completeOutput(ctx, next, previous),
  examples: {
    create: { name: 'Example TOC Multicast 1080p', protocol: 'ts_udp', url: 'udp://239.10.30.10:5000', ttl: 16 },
    update: { ttl: 32 }
  }
})
