import type { FastifyInstance, FastifyRequest } from 'fastify'
import { isControlPath, isDeviceRequest } from '../kernel/route-scope.ts'
import { checkControlRequest } from './control-access.ts'
import { requireSession } from './session-guard.ts'
import type { SessionStore } from './sessions.ts'

export interface GuardDeps {
  sessions: () => SessionStore
  /** The control token the `control` routes require, if any. */
  controlToken: () => string | undefined
}

/**
 * The one access decision, made for every request from the route that matched, never from the
 * URL as sent (which the router decodes and normalizes differently). Each route declares
 * `config.access` where it is registered: `open` (login, logout, the documentation, health),
 * `control` (the emulator's /_emulator routes) or `session`; a route that declares nothing is
 * `session`, so a forgotten declaration fails closed.
 *
 * A request that matched no route reaches only the 404/405 answer. Under /apis (read loosely) it
 * still needs a session, and under /_emulator the control guard's consent, so that without them
 * even the existence of a path, or the methods it allows, is not revealed.
 */
export function installRouteGuard (app: FastifyInstance, deps: GuardDeps): void {
  app.addHook('onRequest', async function guardRoute (request: FastifyRequest) {
    if (request.is404) {
      // The 404 route declares no roles: only the session is checked.
      if (isDeviceRequest(request)) requireSession(request, deps.sessions(), undefined)
      else if (isControlPath(request)) checkControlRequest(request, deps.controlToken())
      return
    }
    // Fastify builds a new routeOptions object on every read: read it once on this hot path.
    const { config } = request.routeOptions
    switch (config.access ?? 'session') {
      case 'open': return
      case 'control': return checkControlRequest(request, deps.controlToken())
      case 'session': return requireSession(request, deps.sessions(), config.roles)
    }
  })
}
