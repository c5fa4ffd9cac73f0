import type { FastifyInstance } from 'fastify'
import type { SystemServices } from './system-services.ts'
import { registerSysteminfoRoute } from './systeminfo.ts'
import { registerNetworkRoutes } from './network-routes.ts'
import { registerLicenseRoute } from './license.ts'
import { registerLicenseUpload } from './license-upload.ts'
import { registerMetricSnapshotRoute } from './metric-snapshot.ts'
import { registerServicesRoutes } from './services-routes.ts'

export { checkSystemSingletons } from './check-singletons.ts'
export { nicNames } from './network-routes.ts'
export { readLicense } from './license.ts'
export { signLicense, LICENSE_FILE_FORMAT, type LicenseTerms } from './license-file.ts'

/** Registers the singleton system endpoints (kraken-api.md section 7). */
export function registerSystemRoutes (app: FastifyInstance, services: () => SystemServices): void {
  registerSysteminfoRoute(app, services)
  registerNetworkRoutes(app, services)
  registerLicenseRoute(app, services)
  registerLicenseUpload(app, services)
  registerMetricSnapshotRoute(app, services)
  registerServicesRoutes(app, services)
}
