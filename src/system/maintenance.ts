import type { FastifyInstance } from 'fastify'
import { registerDateTimeRoutes } from './datetime-routes.ts'
import { installDeviceLog } from './device-log-hooks.ts'
import { registerFirmwareRoutes } from './firmware-routes.ts'
import { registerLogRoutes } from './log-routes.ts'
import type { MaintenanceServices } from './maintenance-services.ts'

export type { MaintenanceServices, StreamTransition } from './maintenance-services.ts'
export { DeviceLog } from './device-log.ts'
export { deviceNow } from './datetime.ts'

/** Firmware, logs, date and time (kraken-api.md section 10), and the hooks that write the device log. */
export function registerMaintenanceRoutes (app: FastifyInstance, services: () => MaintenanceServices): void {
  installDeviceLog(app, services)
  registerFirmwareRoutes(app, services)
  registerLogRoutes(app, services)
  registerDateTimeRoutes(app, services)
}
