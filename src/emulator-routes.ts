import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { version } from './config.ts'
import { errorResponses } from './kernel/schemas.ts'
import type { Services } from './services.ts'

export const EMULATOR_BASE = '/_emulator'

/**
 * The emulator's own control routes, outside /apis so they never collide with the device's.
 * No session: a CI job resets between tests from any language.
 */
export function registerEmulatorRoutes (app: FastifyInstance, services: () => Services): void {
  app.get(`${EMULATOR_BASE}/health`, {
    schema: {
      tags: ['Emulator'], operationId: 'emulatorHealth', summary: 'Liveness of the emulator (no session)',
      response: {
        200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), uptime: Type.Integer({ description: 'seconds' }) }),
        ...errorResponses(500)
      }
    }
  }, async function health () {
    const s = services()
    return { status: 'ok' as const, version: version(), uptime: Math.floor((s.clock.now() - s.startedAt) / 1000) }
  })

  app.post(`${EMULATOR_BASE}/reset`, {
    config: { bodyOptional: true },
    schema: {
      tags: ['Emulator'], operationId: 'emulatorReset',
      summary: 'Restore a fixture and end every session (no session needed)',
      description: 'Restores the active fixture, or switches to `fixture`. Answers once the state is fully restored and durable.',
      body: Type.Optional(Type.Object({ fixture: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })) }, { additionalProperties: false })),
      response: {
        200: Type.Object({ fixture: Type.String() }),
        ...errorResponses(400, 413, 415, 500)
      }
    }
  }, async function reset (request) {
    const s = services()
    const body = (request.body ?? {}) as { fixture?: string }
    await s.reset(body.fixture)
    return { fixture: s.store.fixture() }
  })
}
