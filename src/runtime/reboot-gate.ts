import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isDeviceRequest } from '../kernel/route-scope.ts'
import type { RuntimeServices } from './runtime-types.ts'

/**
 * While the device reboots every /apis/v2 route answers 503 in the envelope with `Retry-After`,
 * login and logout included; /_emulator and /apidoc keep working so a harness can wait or reset.
 * Decided on the route that matched (see isDeviceRequest), so no spelling of a path slips past it.
 * Installed before the route guard, so a stale cookie sees 503 during the reboot and 401 after.
 */
// approximation: a real device refuses connections while it reboots; a 503 is kinder to clients [ours]
export function installRebootGate (app: FastifyInstance, services: () => RuntimeServices): void {
  app.addHook('onRequest', async function rebootGate (request: FastifyRequest, reply: FastifyReply) {
    const remaining = services().runtime.rebootRemainingMs()
    if (remaining === undefined || !isDeviceRequest(request)) return
    // Sent here rather than thrown: a reboot is expected, not an error worth an error-level log line.
    return reply
      .code(503)
      .header('retry-after', String(Math.max(1, Math.ceil(remaining / 1000))))
      .type('application/json; charset=utf-8')
      .send({ error: { type: 'ServiceUnavailable', message: 'the device is rebooting; try again shortly', details: [] } })
  })
}
