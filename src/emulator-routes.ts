import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { version } from './config.ts'
import { errorResponses } from './kernel/schemas.ts'
import { KrakenError } from './kernel/errors.ts'
import { FixtureError } from './fixtures.ts'
import type { Services } from './services.ts'

export const EMULATOR_BASE = '/_emulator'

/**
 * The emulator's own control routes, outside /apis so they never collide with the device's.
 * No session: a CI job resets between tests from any language. Every route but health is
 * `control`: refused from another origin, and behind the control token when one is set.
 */
export function registerEmulatorRoutes (app: FastifyInstance, services: () => Services): void {
  app.get(`${EMULATOR_BASE}/health`, {
    // Open: container health checks and wait-for-port scripts hold no token.
    config: { access: 'open' },
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
    config: { access: 'control', bodyOptional: true },
    // `curl -X POST .../_emulator/reset` sends no body at all: validate that as `{}` (the schema
    // below is an object, and Ajv refuses an absent body as "must be object").
    preValidation: async function defaultResetBody (request) { request.body ??= {} },
    schema: {
      tags: ['Emulator'], operationId: 'emulatorReset', security: [{ controlToken: [] }],
      summary: 'Restore a fixture and end every session (control route)',
      description: 'Restores the active fixture, or switches to `fixture`. Answers once the state is fully restored and durable.',
      // Names only: this route needs no session, and a path would let any caller make the
      // emulator read (and quote in its error) any JSON file on the machine. Paths stay available
      // to --fixture and the programmatic reset(), which only the owner of the process can use.
      body: Type.Optional(Type.Object({
        fixture: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$', description: 'the name of a fixture in fixtures/ (default: the active fixture)' }))
      }, { additionalProperties: false, examples: [{ fixture: 'default' }] })),
      response: {
        200: Type.Object({ fixture: Type.String() }),
        ...errorResponses(400, 401, 403, 413, 415, 500)
      }
    }
  }, async function reset (request) {
    const s = services()
    const body = (request.body ?? {}) as { fixture?: string }
    try {
      await s.reset(body.fixture)
    } catch (error) {
      // An unknown name is the caller's mistake (400 naming the known ones), not a 500.
      if (error instanceof FixtureError && body.fixture !== undefined) throw new KrakenError('Validation', error.message, [{ field: 'fixture', message: error.message }])
      throw error
    }
    return { fixture: s.store.fixture() }
  })
}
