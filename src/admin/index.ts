import type { FastifyInstance } from 'fastify'
import type { AdminServices } from './admin-services.ts'
import { registerPresetRoutes } from './preset-routes.ts'
import { registerCertificateRoutes } from './certificate-routes.ts'

export type { AdminServices } from './admin-services.ts'

/** The appliance's administration (kraken-api.md section 10): presets and certificates. */
export function registerAdminRoutes (app: FastifyInstance, services: () => AdminServices): void {
  registerPresetRoutes(app, services)
  registerCertificateRoutes(app, services)
}
