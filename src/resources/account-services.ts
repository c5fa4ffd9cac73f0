import type { FastifyRequest } from 'fastify'
import type { Services } from '../services.ts'

/**
 * The services of the emulator that serves `request`. Resource hooks receive the request, not
 * the services, and the app decorates itself with `kraken` (src/app.ts), so they are one hop away.
 */
export function servicesOf (request: FastifyRequest): Services {
  const services = (request.server as unknown as { kraken?: Services }).kraken
  if (services === undefined) throw new Error('the app has no kraken services (was it built with buildApp?)')
  return services
}
