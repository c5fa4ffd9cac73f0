import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { conflict, invalid } from '../kernel/errors.ts'
import { isDeviceRequest } from '../kernel/route-scope.ts'
import { errorResponses } from '../kernel/schemas.ts'
import { NIC_NAME_PATTERN } from '../system/network-schema.ts'
import { NETWORK, readNetwork } from '../system/network-routes.ts'
import { LICENSE, StoredLicense } from '../system/license.ts'
import { readSingleton } from '../system/singleton.ts'
import type { Services } from '../services.ts'
import { nicCause, nicsOfStream, type DeviceConditions } from './device-conditions.ts'
import { deviceLocal } from '../kernel/device-local.ts'

export const EVENTS_PATH = '/_emulator/device/events'

/**
 * Every event type, what it takes, and what a client polling the device sees (the README lists
 * the same). A stream in `error` shows it in GET /streams and /streams/<uuid> (`status`,
 * `sub_status`), its statistics are zeros, and it holds no licence session in GET /license.
 */
export const EVENT_TYPES = {
  'input-lost': {
    fields: ['stream', 'input', 'recover_after_ms'],
    effect: 'Running or starting streams (the one named by `stream`, those fed by `input`, or all) go to `error` with sub_status "input lost: ..."; ' +
      'with `recover_after_ms` they run again after that much of the emulator clock (counters from 0).'
  },
  'output-unreachable': {
    fields: ['stream', 'output', 'recover_after_ms'],
    effect: 'As input-lost, for the streams that feed `output` (or `stream`, or all); sub_status "output unreachable: ...".'
  },
  'encoder-failure': {
    fields: ['stream', 'recover_after_ms'],
    effect: 'A transcoding stream (`stream`, or every running transcoder) goes to `error` with sub_status "encoder failure"; Bypass streams encode nothing.'
  },
  'licence-expired': {
    fields: [],
    effect: 'GET /license shows is_license_valid false; every running transcoder goes to `error` ("licence: not valid ..."); starting one is a 409. Bypass streams go on.'
  },
  'licence-changed': {
    fields: ['max_encoders'],
    effect: 'A valid licence for `max_encoders` sessions: GET /license shows it; running transcoders beyond it (the last started first) go to `error`, ' +
      'and transcoders in error for the licence run again while sessions are free.'
  },
  'nic-down': {
    fields: ['nic'],
    effect: 'GET /system/network shows the NIC\'s `speed` 0; streams whose input or outputs use it go to `error` ("network: the link of <nic> is down"), and so does one started meanwhile.'
  },
  'nic-up': {
    fields: ['nic'],
    effect: 'The NIC\'s speed comes back; streams in error because of it run again.'
  },
  reboot: {
    fields: [],
    effect: 'As POST /system/reboot: sessions end, streams stop, /apis answers 503 for --reboot-ms of the clock, then auto_start streams start.'
  },
  'sessions-expired': {
    fields: [],
    effect: 'Every session ends: the next request with its cookie is a 401.'
  },
  unreachable: {
    fields: ['duration_ms'],
    effect: 'For `duration_ms` of the emulator clock every /apis request is answered by closing the connection (no HTTP response); /_emulator keeps answering.'
  }
} as const satisfies Record<string, { fields: readonly EventField[], effect: string }>

type EventField = 'stream' | 'input' | 'output' | 'recover_after_ms' | 'max_encoders' | 'nic' | 'duration_ms'
export type DeviceEventType = keyof typeof EVENT_TYPES
const TYPES = Object.keys(EVENT_TYPES) as DeviceEventType[]
const REQUIRED: Partial<Record<DeviceEventType, EventField>> = { 'licence-changed': 'max_encoders', 'nic-down': 'nic', 'nic-up': 'nic', unreachable: 'duration_ms' }

export type DeviceEvent = { type: string } & Partial<Record<EventField, string | number>>

const DAY_MS = 86_400_000
const DeviceEventBody = Type.Object({
  type: Type.String({ description: `one of ${TYPES.join(', ')}` }),
  stream: Type.Optional(Type.String({ minLength: 1, description: 'uuid of the stream the fault hits (default: every running stream it applies to)' })),
  input: Type.Optional(Type.String({ minLength: 1, description: 'input-lost: uuid of the input whose streams lose their source' })),
  output: Type.Optional(Type.String({ minLength: 1, description: 'output-unreachable: uuid of the output that cannot be reached' })),
  recover_after_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 366 * DAY_MS, description: 'the streams run again after this much of the emulator clock (default: they stay in error until stopped)' })),
  max_encoders: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'licence-changed: transcoding sessions of the new licence' })),
  nic: Type.Optional(Type.String({ pattern: NIC_NAME_PATTERN, description: 'nic-down, nic-up: the NIC name' })),
  duration_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * DAY_MS, description: 'unreachable: for how long, on the emulator clock' }))
}, { additionalProperties: false, examples: [{ type: 'licence-changed', max_encoders: 2 }] })

const EventResult = Type.Object({
  type: Type.String(),
  streams: Type.Array(Type.String(), { description: 'uuids of the streams whose status the event changed' }),
  until: Type.Optional(Type.String({ description: 'unreachable: device time (ISO 8601) it answers again' }))
}, { additionalProperties: false })

/** `POST /_emulator/device/events`, and the hook that makes the device unreachable. */
export function registerDeviceEvents (app: FastifyInstance, services: () => Services, conditions: () => DeviceConditions): void {
  const sequences = deviceLocal((_s: Services) => ({ last: 0 }))

  app.post(EVENTS_PATH, {
    config: { access: 'control' },
    schema: {
      tags: ['Emulator'], operationId: 'emulatorDeviceEvent', security: [{ controlToken: [] }],
      summary: 'Make something go wrong on the device (control route)',
      description: 'What a client polling the device sees, by `type`:\n\n' +
        TYPES.map(type => `- \`${type}\`${EVENT_TYPES[type].fields.length === 0 ? '' : ` (${EVENT_TYPES[type].fields.map(f => `\`${f}\``).join(', ')})`}: ${EVENT_TYPES[type].effect}`).join('\n') +
        '\n\nA field that does not apply to the type is a 400; an unknown type is a 400 listing the valid ones.',
      body: DeviceEventBody,
      response: { 200: EventResult, ...errorResponses(400, 401, 403, 409, 413, 415, 500) }
    }
  }, async function deviceEvent (request: FastifyRequest) {
    const s = services()
    return await applyEvent(s, conditions(), request.body as DeviceEvent, `event:${++sequences(s).last}`)
  })
}

/** Answers every /apis request by closing its connection while the device is unreachable. */
export function installUnreachable (app: FastifyInstance, services: () => Services, deviceConditions: () => DeviceConditions): void {
  app.addHook('onRequest', async function unreachable (request: FastifyRequest, reply: FastifyReply) {
    const conditions = deviceConditions()
    const until = conditions.unreachableUntil
    if (until === undefined) return
    if (services().clock.now() >= until) {
      conditions.unreachableUntil = undefined
      return
    }
    if (!isDeviceRequest(request)) return
    // A device off the network sends nothing back: no status, no envelope.
    reply.hijack()
    request.raw.socket.destroy()
  })
}

/** Checks an event's fields against its type; throws a 400 naming the field. */
function checkEvent (event: DeviceEvent): DeviceEventType {
  if (!(TYPES as string[]).includes(event.type)) throw invalid('type', `must be one of ${TYPES.join(', ')}`)
  const type = event.type as DeviceEventType
  const allowed: readonly string[] = EVENT_TYPES[type].fields
  for (const field of Object.keys(event)) {
    if (field !== 'type' && !allowed.includes(field)) throw invalid(field, `does not apply to ${type}${allowed.length === 0 ? ', which takes no field' : ` (it takes ${allowed.join(', ')})`}`)
  }
  const required = REQUIRED[type]
  if (required !== undefined && event[required] === undefined) throw invalid(required, `is required for ${type}`)
  if (event.stream !== undefined && event.input !== undefined) throw invalid('input', 'cannot be given with stream')
  if (event.stream !== undefined && event.output !== undefined) throw invalid('output', 'cannot be given with stream')
  return type
}

/** Applies one device event; the answer lists the streams whose status changed. */
export async function applyEvent (s: Services, conditions: DeviceConditions, event: DeviceEvent, cause: string): Promise<{ type: string, streams: string[], until?: string }> {
  const type = checkEvent(event)
  const { store, runtime } = s
  const result = (streams: string[]): { type: string, streams: string[] } => ({ type, streams })
  switch (type) {
    case 'input-lost':
    case 'output-unreachable':
    case 'encoder-failure': {
      const targets = streamTargets(s, type, event)
      const recoverAfterMs = typeof event.recover_after_ms === 'number' ? event.recover_after_ms : undefined
      const changed = targets.filter(({ uuid, reason }) => runtime.fault(uuid, reason, { cause, ...(recoverAfterMs === undefined ? {} : { recoverAfterMs }) }))
      return result(changed.map(t => t.uuid))
    }
    case 'licence-expired':
    case 'licence-changed': {
      const stored = readSingleton(store, LICENSE, StoredLicense)
      const next = type === 'licence-expired'
        ? { ...stored, is_license_valid: false }
        : { ...stored, is_license_valid: true, max_encoders: Number(event.max_encoders) }
      await store.commit([{ op: 'set', singleton: LICENSE, value: next }])
      const fallen = runtime.enforceLicense()
      const revived = runtime.recover('licence')
      return result([...fallen.filter(uuid => !revived.includes(uuid)), ...revived])
    }
    case 'nic-down':
    case 'nic-up': {
      const name = String(event.nic)
      const network = readNetwork(store)
      const nic = network.nics.find(n => n.name === name)
      if (nic === undefined) throw invalid('nic', `names no NIC of this device (${network.nics.map(n => n.name).join(', ')})`)
      if (type === 'nic-down') {
        if (!conditions.nicsDown.has(name)) conditions.nicsDown.set(name, nic.speed)
        nic.speed = 0
      } else {
        // A link that was down when the emulator started comes up at a gigabit [ours].
        nic.speed = conditions.nicsDown.get(name) ?? (nic.speed > 0 ? nic.speed : 1000)
        conditions.nicsDown.delete(name)
      }
      await store.commit([{ op: 'set', singleton: NETWORK, value: network }])
      if (type === 'nic-up') return result(runtime.recover(nicCause(name)))
      const hit = runtime.entries().filter(e => (e.status === 'running' || e.status === 'starting') && nicsOfStream(store, e.uuid).has(name))
      return result(hit.filter(e => runtime.fault(e.uuid, `network: the link of ${name} is down`, { cause: nicCause(name) })).map(e => e.uuid))
    }
    case 'reboot': {
      const before = runtime.entries().map(e => e.uuid)
      runtime.reboot()
      return result(before)
    }
    case 'sessions-expired':
      s.sessions.clear('expired')
      return result([])
    case 'unreachable': {
      const until = s.clock.now() + Number(event.duration_ms)
      conditions.unreachableUntil = Math.max(conditions.unreachableUntil ?? 0, until)
      return { type, streams: [], until: new Date(conditions.unreachableUntil).toISOString() }
    }
  }
}

/** The streams a stream fault hits, each with its sub_status reason. */
function streamTargets (s: Services, type: 'input-lost' | 'output-unreachable' | 'encoder-failure', event: DeviceEvent): Array<{ uuid: string, reason: string }> {
  const { store, runtime } = s
  const live = runtime.entries().filter(e => e.status === 'running' || e.status === 'starting')
  const nameOf = (collection: string, id: string): string => {
    const item = store.get(collection, id)
    return typeof item?.name === 'string' && item.name !== '' ? `'${item.name}'` : id
  }
  if (typeof event.stream === 'string') {
    const stream = store.get('streams', event.stream)
    if (stream === undefined) throw invalid('stream', `names no stream (${event.stream})`)
    const entry = live.find(e => e.uuid === event.stream)
    if (entry === undefined) throw conflict(`stream ${nameOf('streams', event.stream)} is not running`, [{ field: 'stream', message: `is ${runtime.state(event.stream).status}` }])
    if (type === 'encoder-failure' && entry.kind === 'bypass') throw conflict('a Bypass (iorouter) stream encodes nothing', [{ field: 'stream', message: 'is a Bypass stream' }])
  }
  if (typeof event.input === 'string' && store.get('inputs', event.input) === undefined) throw invalid('input', `names no input (${event.input})`)
  if (typeof event.output === 'string' && store.get('outputs', event.output) === undefined) throw invalid('output', `names no output (${event.output})`)
  const targets: Array<{ uuid: string, reason: string }> = []
  for (const { uuid, kind } of live) {
    if (typeof event.stream === 'string' && uuid !== event.stream) continue
    const stream = store.get('streams', uuid)
    if (stream === undefined) continue
    const inputId = String(stream.input)
    const outputs = Array.isArray(stream.outputs) ? stream.outputs.map(String) : []
    if (type === 'input-lost') {
      if (typeof event.input === 'string' && inputId !== event.input) continue
      targets.push({ uuid, reason: `input lost: nothing arrives from input ${nameOf('inputs', inputId)}` })
    } else if (type === 'output-unreachable') {
      if (typeof event.output === 'string' && !outputs.includes(event.output)) continue
      const output = typeof event.output === 'string' ? event.output : outputs[0] ?? ''
      targets.push({ uuid, reason: `output unreachable: output ${nameOf('outputs', output)} cannot reach its destination` })
    } else {
      if (kind === 'bypass') continue
      targets.push({ uuid, reason: 'encoder failure: the encoder process stopped' })
    }
  }
  return targets
}
