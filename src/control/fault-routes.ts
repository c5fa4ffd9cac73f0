import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses, NoContent } from '../kernel/schemas.ts'
import { notFound } from '../kernel/errors.ts'
import { FAULT_ACTIONS, type Faults } from './faults.ts'
import { parseFault } from './fault-parse.ts'
import { CONTROL_PREFIX } from './request-log-hooks.ts'

const Match = Type.Object({
  method: Type.Optional(Type.String({ description: 'HTTP method, any case' })),
  path: Type.Optional(Type.String({ description: 'a route template (`/apis/v2/streams/stream-{streamId}`), a glob (`/apis/v2/streams/*`) or an exact path; never /_emulator' })),
  user: Type.Optional(Type.String({ description: 'the user name of the session' }))
}, { additionalProperties: false, description: 'which requests it strikes: every given field must hold; `{}` strikes every device request' })

const Action = Type.Union([
  Type.Object({ type: Type.Literal('delay'), ms: Type.Integer({ minimum: 0, maximum: 600_000 }) }, { additionalProperties: false, description: 'answer after ms, on the emulator\'s clock' }),
  Type.Object({ type: Type.Literal('delay'), minMs: Type.Integer({ minimum: 0 }), maxMs: Type.Integer({ maximum: 600_000 }) }, { additionalProperties: false, description: 'answer after a delay drawn from minMs..maxMs (seeded by --seed)' }),
  Type.Object({ type: Type.Literal('error'), status: Type.Integer({ minimum: 400, maximum: 599 }), message: Type.Optional(Type.String()) }, { additionalProperties: false, description: 'answer this status with the device\'s error envelope; the route does not run' }),
  Type.Object({ type: Type.Literal('reset') }, { additionalProperties: false, description: 'reset the TCP connection (RST): the client sees ECONNRESET' }),
  Type.Object({ type: Type.Literal('empty') }, { additionalProperties: false, description: 'close the connection without a byte: the client sees an empty reply' }),
  Type.Object({ type: Type.Literal('dribble'), chunkBytes: Type.Optional(Type.Integer({ minimum: 1, default: 16 })), intervalMs: Type.Optional(Type.Integer({ minimum: 1, default: 100 })) }, { additionalProperties: false, description: 'send the real answer chunkBytes at a time, one chunk every intervalMs' })
], { description: `what it does; type is one of ${FAULT_ACTIONS.join(', ')}` })

const FaultBody = Type.Object({
  match: Type.Optional(Match),
  action: Action,
  times: Type.Optional(Type.Integer({ minimum: 1, description: 'strikes at most this many requests (default: unlimited)' })),
  probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'the chance it strikes a matching request, drawn from a generator seeded by --seed' }))
}, {
  additionalProperties: false,
  // The next stream list answers 503 once, as a device busy rebooting a card might.
  examples: [{ match: { method: 'GET', path: '/apis/v2/streams' }, action: { type: 'error', status: 503, message: 'The device is busy, try again' }, times: 1 }]
})

/** What the emulator answers: the fault as stored. A flat action object keeps the serializer simple. */
const FaultResponse = Type.Object({
  id: Type.String({ description: 'fault-1, fault-2...' }),
  match: Match,
  action: Type.Object({
    type: Type.String(),
    ms: Type.Optional(Type.Integer()),
    minMs: Type.Optional(Type.Integer()),
    maxMs: Type.Optional(Type.Integer()),
    status: Type.Optional(Type.Integer()),
    message: Type.Optional(Type.String()),
    chunkBytes: Type.Optional(Type.Integer()),
    intervalMs: Type.Optional(Type.Integer())
  }),
  times: Type.Optional(Type.Integer()),
  probability: Type.Number(),
  hits: Type.Integer({ description: 'requests it struck' }),
  remaining: Type.Union([Type.Integer(), Type.Null()], { description: 'strikes left; null: unlimited' })
}, { additionalProperties: false })

export interface FaultRouteServices { faults: Faults }

const tags = ['Emulator']
const security = [{ controlToken: [] }]

/** POST/GET/DELETE /_emulator/faults: HTTP faults injected into the device's answers. */
export function registerFaultRoutes (app: FastifyInstance, services: () => FaultRouteServices): void {
  app.post(`${CONTROL_PREFIX}/faults`, {
    config: { access: 'control' },
    // The schema documents the body; parseFault checks it, naming each field and listing the
    // valid actions (Ajv would say "must match a schema in anyOf").
    validatorCompiler: () => () => true,
    schema: {
      tags, security, operationId: 'emulatorAddFault',
      summary: 'Inject an HTTP fault (control route)',
      description: 'Faults are tried in the order they were added: the first that matches, has strikes left and wins its draw strikes. They never touch /_emulator routes; a struck request shows in the request log with its `fault`. A reset clears them.',
      body: FaultBody,
      response: { 201: FaultResponse, ...errorResponses(400, 401, 403, 413, 415, 500) }
    }
  }, async function addFault (request, reply) {
    const fault = services().faults.add(parseFault(request.body))
    return reply.code(201).send(fault)
  })

  app.get(`${CONTROL_PREFIX}/faults`, {
    config: { access: 'control' },
    schema: {
      tags, security, operationId: 'emulatorFaults',
      summary: 'The faults in force, with their hits (control route)',
      response: { 200: Type.Object({ faults: Type.Array(FaultResponse) }), ...errorResponses(401, 403, 500) }
    }
  }, async function listFaults () {
    return { faults: services().faults.all() }
  })

  app.delete(`${CONTROL_PREFIX}/faults`, {
    config: { access: 'control' },
    schema: {
      tags, security, operationId: 'emulatorClearFaults',
      summary: 'Remove every fault (control route)',
      response: { 204: NoContent, ...errorResponses(401, 403, 500) }
    }
  }, async function clearFaults (_request, reply) {
    services().faults.clear()
    return reply.code(204).send()
  })

  app.delete(`${CONTROL_PREFIX}/faults/:faultId`, {
    config: { access: 'control' },
    schema: {
      tags, security, operationId: 'emulatorRemoveFault',
      summary: 'Remove one fault (control route)',
      params: Type.Object({ faultId: Type.String({ pattern: '^fault-[0-9]{1,10}$', description: 'as POST answered it' }) }),
      response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 500) }
    }
  }, async function removeFault (request, reply) {
    const { faultId } = request.params as { faultId: string }
    if (!services().faults.remove(faultId)) throw notFound(`fault ${faultId}`)
    return reply.code(204).send()
  })
}
