// Date and time (kraken-api.md section 10: the network settings page holds the NTP server; time
// zone and manual time are ours): `GET`/`PUT /apis/v2/system/datetime`.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { invalid } from '../kernel/errors.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { ADMIN_ONLY, ALL_ROLES } from '../kernel/roles.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import { assertValid } from '../kernel/validator.ts'
import { DATETIME, deviceNow, isTimeZone, localIso, readDateTime, utcOffset, type StoredDateTime } from './datetime.ts'
import { Network } from './network-schema.ts'
import { NETWORK, readNetwork } from './network-routes.ts'
import type { MaintenanceServices } from './maintenance-services.ts'

export const DATETIME_PATH = `${API_BASE}/system/datetime`
/** Manual time may be set between 2000-01-01 and 2099-12-31 (epoch seconds) [ours]. */
const MIN_TIME = 946684800
const MAX_TIME = 4102444799

const base = { tags: ['System'], security: [{ session: [] }] }

const DateTime = Type.Object({
  mode: Type.String({ description: '`ntp`: the time comes from the NTP server; `manual`: as an Administrator set it' }),
  timezone: Type.String({ description: 'IANA time zone' }),
  ntpAddress: Type.String({ description: 'the NTP server: the network settings\' `ntpAddress` ("" when none)' }),
  ntp_synchronized: Type.Boolean({ description: 'mode is ntp and an NTP server is set' }),
  currenttime: Type.Integer({ description: 'device time, epoch seconds (as in systeminfo)' }),
  local_time: Type.String({ description: 'device time in the time zone, ISO 8601 with its offset' }),
  utc_offset: Type.String({ description: 'the time zone\'s offset now, e.g. +01:00' })
}, { additionalProperties: false, description: 'The device\'s date and time settings' })

const DateTimePatch = Type.Object({
  mode: Type.Optional(Type.Enum(['ntp', 'manual'], { type: 'string', description: 'ntp or manual; switching to ntp drops a manual time' })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone such as Europe/Paris or UTC' })),
  // Network's own schema has a default, which validation would fill into every PUT (clearing the server).
  ntpAddress: Type.Optional(Type.Union([Type.String({ format: 'hostname', maxLength: 253 }), Type.Literal('')], {
    description: 'the NTP server, host name or IPv4 address ("" for none): stored as the network settings\' ntpAddress'
  })),
  time: Type.Optional(Type.Integer({ minimum: MIN_TIME, maximum: MAX_TIME, description: 'manual mode only: the device time to set, epoch seconds; it runs on from there' }))
}, {
  additionalProperties: false,
  description: 'The fields to change; the rest keep their values',
  examples: [{ timezone: 'Europe/Paris', mode: 'ntp', ntpAddress: 'pool.ntp.org' }, { mode: 'manual', time: 1767225600 }]
})
type DateTimePatch = { mode?: 'ntp' | 'manual', timezone?: string, ntpAddress?: string, time?: number }

export function registerDateTimeRoutes (app: FastifyInstance, services: () => MaintenanceServices): void {
  function present (): Record<string, unknown> {
    const { store, clock } = services()
    const settings = readDateTime(store)
    const ntpAddress = readNetwork(store).ntpAddress
    const now = deviceNow(store, clock.now())
    return {
      mode: settings.mode,
      timezone: settings.timezone,
      ntpAddress,
      ntp_synchronized: settings.mode === 'ntp' && ntpAddress !== '',
      currenttime: Math.floor(now / 1000),
      local_time: localIso(now, settings.timezone),
      utc_offset: utcOffset(now, settings.timezone)
    }
  }

  app.get(DATETIME_PATH, {
    config: { roles: ALL_ROLES },
    schema: {
      ...base, operationId: 'getDateTime', summary: 'Date, time and time zone',
      response: { 200: DateTime, ...errorResponses(...guardedErrors) }
    }
  }, async function getDateTime () {
    return present()
  })

  app.put(DATETIME_PATH, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'updateDateTime', summary: 'Change the date and time settings',
      description: 'Sets the time zone, the NTP server (stored as the network settings\' `ntpAddress`), or a manual time. ' +
        '`time` needs mode manual (sent or stored). The time keeps running on the emulator\'s clock from what was set; ' +
        'systeminfo\'s `currenttime` and the log\'s time stamps follow it. An unknown time zone is refused (400).',
      body: DateTimePatch,
      response: { 200: DateTime, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function updateDateTime (request: FastifyRequest) {
    const { store, clock, deviceLog } = services()
    const patch = request.body as DateTimePatch
    const stored = readDateTime(store)
    if (patch.timezone !== undefined && !isTimeZone(patch.timezone)) {
      throw invalid('timezone', `must be an IANA time zone such as Europe/Paris, America/New_York or UTC (not '${patch.timezone}')`)
    }
    const mode = patch.mode ?? stored.mode
    if (patch.time !== undefined && mode !== 'manual') throw invalid('time', 'may be set in manual mode only: send "mode": "manual" with it')
    const clockNow = clock.now()
    let offset = mode === 'ntp' ? 0 : stored.mode === 'manual' ? stored.offset_ms : 0
    if (patch.time !== undefined) offset = patch.time * 1000 - clockNow
    const next: StoredDateTime = { mode, timezone: patch.timezone ?? stored.timezone, offset_ms: offset }
    const network = readNetwork(store)
    const ops: Parameters<typeof store.commit>[0] = [{ op: 'set', singleton: DATETIME, value: next }]
    if (patch.ntpAddress !== undefined && patch.ntpAddress !== network.ntpAddress) {
      const nextNetwork = { ...network, ntpAddress: patch.ntpAddress }
      assertValid(Network, nextNetwork)
      ops.push({ op: 'set', singleton: NETWORK, value: nextNetwork })
    }
    assertSessionLive(request)
    await store.commit(ops)
    const changes = Object.entries(patch).map(([k, v]) => `${k} ${String(v)}`).join(', ')
    deviceLog.write('datetime', `settings changed by ${request.session?.username ?? '-'}: ${changes === '' ? 'nothing' : changes}`)
    return present()
  })
}
