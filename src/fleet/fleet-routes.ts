import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses } from '../kernel/schemas.ts'
import { EMULATOR_BASE } from '../emulator-routes.ts'
import type { FleetPlan } from './fleet-plan.ts'

export interface FleetEntry { number: number, url: string, address: string, port: number, hostname: string, serial: string }

const Device = Type.Object({
  number: Type.Integer({ description: 'the device number, 1-based across the whole fleet' }),
  url: Type.String({ description: 'its base URL (append /apis/v2)' }),
  address: Type.String({ description: 'the address it listens on' }),
  port: Type.Integer(),
  hostname: Type.String({ description: 'its host name (system/network, as seeded)' }),
  serial: Type.String({ description: 'its serial number (as seeded)' })
}, { additionalProperties: false })

/**
 * `GET /_emulator/fleet` on any device of a fleet: every device this process serves, with its URL.
 * A control route: each device's control token guards it there, as its other /_emulator routes.
 */
export function registerFleetRoutes (app: FastifyInstance, devices: () => FleetEntry[], plan: FleetPlan): void {
  app.get(`${EMULATOR_BASE}/fleet`, {
    config: { access: 'control' },
    schema: {
      tags: ['Emulator'], operationId: 'emulatorFleet', security: [{ controlToken: [] }],
      summary: 'The devices of this fleet and their URLs (control route; fleet mode only)',
      response: {
        200: Type.Object({
          total: Type.Integer({ description: 'devices in the whole fleet, all shards' }),
          shard: Type.Object({ index: Type.Integer(), count: Type.Integer() }, { additionalProperties: false }),
          addressing: Type.Union([Type.Literal('addresses'), Type.Literal('ports'), Type.Literal('hostnames')]),
          devices: Type.Array(Device, { description: 'the devices this process serves, in number order' })
        }, { additionalProperties: false }),
        ...errorResponses(401, 403, 500)
      }
    }
  }, async function fleet () {
    return { total: plan.total, shard: plan.shard, addressing: plan.addressing.kind, devices: devices() }
  })
}
