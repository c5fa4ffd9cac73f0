import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { DeviceClock } from '../kernel/clock.ts'
import { KrakenError, conflict, invalid } from '../kernel/errors.ts'
import { errorResponses } from '../kernel/schemas.ts'
import type { Services } from '../services.ts'

export const CLOCK_PATH = '/_emulator/clock'

const ClockState = Type.Object({
  now: Type.String({ format: 'date-time', description: 'the device\'s time (ISO 8601, UTC)' }),
  now_ms: Type.Integer({ description: 'the same, in milliseconds since the epoch' }),
  mode: Type.Union([Type.Literal('real'), Type.Literal('manual')], { description: 'real: time passes; manual: it moves only when told to' })
}, { additionalProperties: false })

const ClockMove = Type.Object({
  advance_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 366 * 86_400_000, description: 'move the clock forward by this many milliseconds' })),
  set: Type.Optional(Type.String({ format: 'date-time', description: 'move the clock forward to this time (ISO 8601 with a zone); earlier than now is refused' })),
  mode: Type.Optional(Type.Union([Type.Literal('real'), Type.Literal('manual')], { description: 'switch the mode, going on from the current time (applied after the move)' }))
}, { additionalProperties: false, examples: [{ mode: 'manual' }] })

type ClockMove = { advance_ms?: number, set?: string, mode?: 'real' | 'manual' }

/** What the clock routes report. */
export function clockState (clock: DeviceClock): { now: string, now_ms: number, mode: 'real' | 'manual' } {
  const now = clock.now()
  return { now: new Date(now).toISOString(), now_ms: now, mode: clock.mode }
}

/**
 * `GET /_emulator/clock` and `POST /_emulator/clock`: the device's clock, which the emulator's
 * sessions, lockouts, stream transitions and statistics, uptime, reboots and fault recoveries all
 * read. Moving it forward fires what falls due in order, as if the time had passed.
 */
export function registerClockRoutes (app: FastifyInstance, services: () => Services): void {
  const movable = (): DeviceClock => {
    const clock = services().deviceClock
    if (clock === undefined) throw conflict('this emulator runs on a clock its host supplied; move that clock instead')
    return clock
  }

  app.get(CLOCK_PATH, {
    config: { access: 'control' },
    schema: {
      tags: ['Emulator'], operationId: 'emulatorClock', security: [{ controlToken: [] }],
      summary: 'The device clock: its time and mode (control route)',
      response: { 200: ClockState, ...errorResponses(401, 403, 409, 500) }
    }
  }, async function getClock () {
    return clockState(movable())
  })

  app.post(CLOCK_PATH, {
    config: { access: 'control' },
    schema: {
      tags: ['Emulator'], operationId: 'emulatorMoveClock', security: [{ controlToken: [] }],
      summary: 'Move the device clock forward, or switch its mode (control route)',
      description: 'Give `advance_ms` or `set` (not both), and/or `mode`. Time only moves forward: a `set` earlier than now is a 400 naming the current time. ' +
        'Everything that depends on time follows, as if the time had passed: session idle timeouts and lockouts expire, stream transitions complete, ' +
        '`uptime` and `currenttime` advance, statistics counters grow by what their rates give, reboots end and device faults recover when due. ' +
        'With `--clock manual` the clock starts frozen at the real time and moves only here.',
      body: ClockMove,
      response: { 200: ClockState, ...errorResponses(400, 401, 403, 409, 413, 415, 500) }
    }
  }, async function moveClock (request: FastifyRequest) {
    const body = request.body as ClockMove
    const clock = movable()
    if (body.advance_ms !== undefined && body.set !== undefined) throw invalid('set', 'cannot be given with advance_ms: give one of them')
    if (body.advance_ms === undefined && body.set === undefined && body.mode === undefined) {
      throw new KrakenError('Validation', 'give advance_ms, set or mode', [{ field: 'advance_ms', message: 'is required unless set or mode is given' }])
    }
    if (body.set !== undefined) {
      const at = Date.parse(body.set)
      const now = clock.now()
      if (!Number.isFinite(at)) throw invalid('set', 'is not a date-time')
      if (at < now) throw invalid('set', `is earlier than the device's time ${new Date(now).toISOString()}: the clock only moves forward`)
      clock.set(at)
    }
    if (body.advance_ms !== undefined) clock.advance(body.advance_ms)
    if (body.mode !== undefined) clock.setMode(body.mode)
    return clockState(clock)
  })
}
