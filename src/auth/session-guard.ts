import type { FastifyRequest } from 'fastify'
import { forbidden, unauthenticated } from '../kernel/errors.ts'
import { sessionIdCandidates, type SessionStore } from './sessions.ts'
import type { Role } from '../kernel/roles.ts'

/**
 * Finds the caller's live session (kraken-api.md section 2) and checks the route's roles
 * (`config.roles`; any signed-in role when absent). Called by the route guard for every route
 * declared `session`, before the body is validated, so a forbidden caller learns nothing from a 400.
 */
export function requireSession (request: FastifyRequest, sessions: SessionStore, allowed: readonly Role[] | undefined): void {
  for (const id of sessionIdCandidates(request.headers.cookie)) {
    const session = sessions.touch(id)
    if (session !== undefined) {
      request.session = session
      break
    }
  }
  if (request.session === undefined) throw unauthenticated()
  if (allowed !== undefined && !allowed.includes(request.session.role)) {
    // The path asked for (as routed), not the route's template: `account-haiadmin`, not `account-:accountId`.
    const path = request.url.split('?')[0] ?? ''
    throw forbidden(`the ${request.session.role} role may not ${request.method} ${path}`)
  }
}
