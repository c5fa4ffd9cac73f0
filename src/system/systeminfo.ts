import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { ALL_ROLES } from '../kernel/roles.ts'
import type { SystemServices } from './system-services.ts'
import { readSingleton } from './singleton.ts'
import { readNetwork } from './network-routes.ts'
import { deviceNow } from './datetime.ts'

/** The stored identity of the device; the rest of systeminfo is computed at each call. */
export const SystemIdentity = Type.Object({
  version: Type.String({ minLength: 1, default: '4.2.1.14', description: 'software version' }),
  model: Type.String({ minLength: 1, default: 'Kraken', description: 'product model' }),
  part_number: Type.String({ minLength: 1, default: 'KRA-SVR-4000', description: 'hardware part number' }),
  serial_number: Type.String({ minLength: 1, default: 'KR4000-0000001', description: 'hardware serial number' })
}, { additionalProperties: false })

export const SYSTEMINFO = 'systeminfo'

const Systeminfo = Type.Object({
  result: Type.Literal(true),
  version: Type.String({ description: 'software version' }),
  currenttime: Type.Integer({ description: 'device time, epoch seconds' }),
  uptime: Type.Integer({ description: 'seconds since the device started' }),
  hostname: Type.String({ description: 'as set in system/network' }),
  model: Type.String(),
  part_number: Type.String(),
  serial_number: Type.String()
}, { additionalProperties: false, description: 'Identity and clock of the device' })

/** `GET /apis/v2/systeminfo` (kraken-api.md section 7): every role. */
export function registerSysteminfoRoute (app: FastifyInstance, services: () => SystemServices): void {
  app.get(`${API_BASE}/systeminfo`, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['System'], operationId: 'getSysteminfo', summary: 'Device identity, version, time and uptime',
      security: [{ session: [] }],
      response: { 200: Systeminfo, ...errorResponses(...guardedErrors) }
    }
  }, async function getSysteminfo () {
    const s = services()
    const identity = readSingleton(s.store, SYSTEMINFO, SystemIdentity)
    const now = s.clock.now()
    return {
      result: true as const,
      version: identity.version,
      // The device's time: the emulator's clock, or a manual time running on it (system/datetime).
      currenttime: Math.floor(deviceNow(s.store, now) / 1000),
      uptime: Math.max(0, Math.floor((now - s.startedAt) / 1000)),
      hostname: readNetwork(s.store).hostname,
      model: identity.model,
      part_number: identity.part_number,
      serial_number: identity.serial_number
    }
  })
}
