import { Type, type Static, type TObject, type TSchema } from 'typebox'
import { Ignored } from './patch-schema.ts'
import { NIC_NAME_PATTERN } from './network-schema.ts'

/** The device services, `/apis/v2/system/services` (kraken-api.md section 7). */

export const SERVICE_NAMES = ['sdi', 'gige', 'ndi', 'st2110', 'analog', 'rtspserver', 'ssh', 'recording', 'webserver'] as const
export type ServiceName = typeof SERVICE_NAMES[number]
/** The services with settings of their own; the others only switch on and off. */
export const RTSP_SERVER = 'rtspserver'
export const WEB_SERVER = 'webserver'
export const PLAIN_SERVICES = SERVICE_NAMES.filter(n => n !== RTSP_SERVER && n !== WEB_SERVER)

const Enabled = (enabled: boolean) => Type.Boolean({ default: enabled, description: 'whether the service runs' })
const Interfaces = Type.Array(Type.String({ pattern: NIC_NAME_PATTERN }), {
  minItems: 1,
  uniqueItems: true,
  description: 'the NICs the web server (and this API) listens on: names of system/network NICs, at least one'
})
const Listeners = (interfaces: string[]) => Type.Object({
  listeners: Type.Object({ interfaces: { ...Interfaces, default: interfaces } }, { additionalProperties: false, default: {} })
}, { additionalProperties: false, default: {} })

/** What is stored per service; `name` and `status` are derived [ours: status follows enabled]. */
const PlainStored = (enabled: boolean) => Type.Object({ enabled: Enabled(enabled) }, { additionalProperties: false, default: {} })
const RtspStored = Type.Object({
  enabled: Enabled(true),
  rtsp_port: Type.Integer({ minimum: 1, maximum: 65535, default: 554, description: 'TCP port of the RTSP server (RTSP pull outputs)' })
}, { additionalProperties: false, default: {} })
const WebStored = Type.Object({
  enabled: Enabled(true),
  data: Listeners(['eth0', 'eth1', 'eth2'])
}, { additionalProperties: false, default: {} })

/** The `services` singleton; the defaults are the factory settings [ours]. */
export const StoredServices = Type.Object({
  sdi: PlainStored(false),
  gige: PlainStored(false),
  ndi: PlainStored(false),
  st2110: PlainStored(false),
  analog: PlainStored(false),
  rtspserver: RtspStored,
  ssh: PlainStored(false),
  recording: PlainStored(false),
  webserver: WebStored
}, { additionalProperties: false })
export type StoredServices = Static<typeof StoredServices>

const common = {
  name: Type.String({ description: 'the service name' }),
  enabled: Type.Boolean(),
  status: Type.Enum(['running', 'stopped'], { type: 'string', description: 'running when enabled, stopped otherwise' })
}
export const ServiceSummary = Type.Object(common, { additionalProperties: false })
export const ServiceList = Type.Object({ service_list: Type.Array(ServiceSummary) }, { additionalProperties: false })
export const PlainService = Type.Object(common, { additionalProperties: false, description: 'A device service' })
export const RtspService = Type.Object({ ...common, rtsp_port: RtspStored.properties.rtsp_port }, { additionalProperties: false, description: 'The RTSP server' })
export const WebService = Type.Object({ ...common, data: Type.Object({ listeners: Type.Object({ interfaces: Interfaces }) }) }, { additionalProperties: false, description: 'The web server, which also serves this API' })

/** PUT bodies: `name` may be sent (it must match the path), `status` is read-only. */
function patch (extra: Record<string, TSchema>, description: string, example: Record<string, unknown>): TObject {
  return Type.Object({
    name: Type.Optional(Type.String({ description: 'read-only: when sent it must be the service in the path' })),
    enabled: Type.Optional(Type.Boolean({ description: 'switch the service on or off' })),
    status: Ignored,
    ...extra
  }, { additionalProperties: false, description, examples: [example] })
}
export const PlainServicePatch = patch({}, 'The fields to change', { enabled: true })
export const RtspServicePatch = patch({ rtsp_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port, 1-65535' })) }, 'The fields to change', { enabled: true, rtsp_port: 8554 })
export const WebServicePatch = patch({
  data: Type.Optional(Type.Object({
    listeners: Type.Optional(Type.Object({ interfaces: Type.Optional(Interfaces) }, { additionalProperties: false }))
  }, { additionalProperties: false }))
}, 'The fields to change; the web server cannot be disabled', { data: { listeners: { interfaces: ['eth0'] } } })
