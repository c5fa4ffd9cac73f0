import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { ALL_ROLES } from '../kernel/roles.ts'
import type { SystemServices } from './system-services.ts'
import { LoadAverage } from './load-average.ts'
import { deviceLocal } from '../kernel/device-local.ts'

/** Cores of the emulated appliance, to turn CPU percent into a Unix load [ours]. */
export const CPU_CORES = 8

const Decimal = (description: string) => Type.String({ pattern: '^\\d+\\.\\d{2}$', description: `${description}, a number as a string with two decimals` })

const MetricSnapshot = Type.Object({
  system: Type.Object({ uptime: Type.Integer({ description: 'seconds since the device started' }) }, { additionalProperties: false }),
  memory: Type.Object({ usedPercent: Decimal('memory in use, percent') }, { additionalProperties: false }),
  cpu: Type.Object({ loadPercent: Decimal('CPU load, percent') }, { additionalProperties: false }),
  loadAvg: Type.Object({
    '1m': Decimal('load average over 1 minute'),
    '5m': Decimal('load average over 5 minutes'),
    '15m': Decimal('load average over 15 minutes')
  }, { additionalProperties: false }),
  network: Type.Object({
    receivedMbps: Decimal('received on all NICs, Mbit/s'),
    sentMbps: Decimal('sent on all NICs, Mbit/s')
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'Device load now; CPU and network follow the running streams' })

/**
 * Percentages are two-decimal strings on the device [field]; the load averages and network rates
 * use the same format [ours: their type is not published; one formatter keeps it easy to change].
 */
export function decimal (value: number): string {
  return (Number.isFinite(value) && value > 0 ? value : 0).toFixed(2)
}

const percent = (value: number): string => decimal(Math.min(100, value))

/** `GET /apis/v2/system/metric/snapshot` (kraken-api.md section 7): every role. */
export function registerMetricSnapshotRoute (app: FastifyInstance, services: () => SystemServices): void {
  // One per device (a fleet app serves many): see kernel/device-local.ts.
  const loadAverageOf = deviceLocal((_s: SystemServices) => new LoadAverage())
  services().onReset.push(() => loadAverageOf(services()).reset())

  app.get(`${API_BASE}/system/metric/snapshot`, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['System'], operationId: 'getMetricSnapshot', summary: 'CPU, memory, load and network of the device now',
      security: [{ session: [] }],
      response: { 200: MetricSnapshot, ...errorResponses(...guardedErrors) }
    }
  }, async function getMetricSnapshot () {
    const s = services()
    const now = s.clock.now()
    const load = s.runtime.load()
    const [m1, m5, m15] = loadAverageOf(s).sample(CPU_CORES * Math.min(100, Math.max(0, load.cpuPercent)) / 100, now)
    return {
      system: { uptime: Math.max(0, Math.floor((now - s.startedAt) / 1000)) },
      memory: { usedPercent: percent(load.memoryPercent) },
      cpu: { loadPercent: percent(load.cpuPercent) },
      loadAvg: { '1m': decimal(m1), '5m': decimal(m5), '15m': decimal(m15) },
      network: { receivedMbps: decimal(load.receivedMbps), sentMbps: decimal(load.sentMbps) }
    }
  })
}
