import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { KrakenError } from '../kernel/errors.ts'
import { errorResponses } from '../kernel/schemas.ts'
import type { Services } from '../services.ts'
import { MAX_STEPS, parseScenario, SCENARIO_FORMAT } from './scenario-format.ts'
import { SCENARIO_NAME, scenarioNames, shippedScenario } from './scenario-library.ts'

export const SCENARIOS_PATH = '/_emulator/scenarios'

const Status = Type.Object({
  name: Type.String(),
  step: Type.Integer({ description: 'steps done' }),
  steps: Type.Integer(),
  elapsedMs: Type.Integer({ description: 'device-clock time since the start (frozen when it ended)' }),
  durationMs: Type.Integer({ description: 'when the last step is due, from the start' }),
  state: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed'), Type.Literal('stopped')]),
  last: Type.Optional(Type.String({ description: 'the last step done, or why it failed or stopped' }))
}, { additionalProperties: false })

const Answer = Type.Object({
  status: Type.Union([Status, Type.Null()], { description: 'the scenario playing or last played; null before the first' }),
  shipped: Type.Array(Type.String(), { description: 'names of the scenarios shipped with the emulator' })
}, { additionalProperties: false })

const Start = Type.Object({
  name: Type.Optional(Type.String({ pattern: SCENARIO_NAME, description: 'a shipped scenario (see GET)' })),
  scenario: Type.Optional(Type.Object({}, { additionalProperties: true, description: `a scenario document ("format": "${SCENARIO_FORMAT}"; README, Scenarios)` }))
}, {
  additionalProperties: false,
  examples: [
    { name: 'outage-recovery' },
    { scenario: { format: SCENARIO_FORMAT, name: 'gate-camera', steps: [{ at: '0:05', call: { method: 'POST', path: '/apis/v2/streams/{stream:Gate Camera HEVC}/start' } }, { at: '0:30', event: { type: 'input-lost', stream: '{stream:Gate Camera HEVC}', recover_after_ms: 15000 } }] } }
  ]
})

/** `POST|GET|DELETE /_emulator/scenarios`: play a scripted timeline, see how far it is, stop it. */
export function registerScenarioRoutes (app: FastifyInstance, services: () => Services): void {
  const answer = () => ({ status: services().scenarios.status() ?? null, shipped: scenarioNames() })
  const common = { tags: ['Emulator'], security: [{ controlToken: [] }] }

  app.post(SCENARIOS_PATH, {
    config: { access: 'control' },
    schema: {
      ...common, operationId: 'emulatorPlayScenario',
      summary: 'Play a scenario on the device clock (control route)',
      description: 'Give `name` (a shipped scenario) or `scenario` (a document). Its steps run when the device clock reaches their time from now: ' +
        `API calls through the device API (they show in the request log), device events as POST /_emulator/device/events. At most ${MAX_STEPS} steps; ` +
        'one scenario at a time (409 while one is running). A bad document is a 400 naming the place of each problem (`steps.2.at`).',
      body: Start,
      response: { 202: Answer, ...errorResponses(400, 401, 403, 409, 413, 415, 500) }
    }
  }, async function playScenario (request: FastifyRequest, reply: FastifyReply) {
    const body = request.body as { name?: string, scenario?: unknown }
    if ((body.name === undefined) === (body.scenario === undefined)) {
      throw new KrakenError('Validation', 'give name or scenario, not both', [{ field: body.name === undefined ? 'name' : 'scenario', message: body.name === undefined ? 'is required unless scenario is given' : 'cannot be given with scenario' }])
    }
    const scenario = body.name !== undefined ? shippedScenario(body.name) : parseScenario(body.scenario)
    services().scenarios.start(scenario)
    return reply.code(202).send(answer())
  })

  app.get(SCENARIOS_PATH, {
    config: { access: 'control' },
    schema: {
      ...common, operationId: 'emulatorScenario',
      summary: 'The scenario playing or last played, and the shipped ones (control route)',
      response: { 200: Answer, ...errorResponses(401, 403, 500) }
    }
  }, async function getScenario () {
    return answer()
  })

  app.delete(SCENARIOS_PATH, {
    config: { access: 'control' },
    schema: {
      ...common, operationId: 'emulatorStopScenario',
      summary: 'Stop the scenario playing (control route)',
      description: 'Its remaining steps never run; what it did stays. A no-op when none is running.',
      response: { 200: Answer, ...errorResponses(401, 403, 500) }
    }
  }, async function stopScenario () {
    services().scenarios.stop('stopped by DELETE /_emulator/scenarios')
    return answer()
  })
}
