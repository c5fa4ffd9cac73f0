import type { FastifyInstance } from 'fastify'
import type { Services } from '../services.ts'

/** Registers the singleton system endpoints (kraken-api.md section 7). */
export function registerSystemRoutes (_app: FastifyInstance, _services: () => Services): void {
}
