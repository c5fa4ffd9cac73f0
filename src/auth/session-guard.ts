import type { FastifyInstance, FastifyRequest } from 'fastify'
import { API_BASE } from '../kernel/define-resource.ts'
import { forbidden, unauthenticated } from '../kernel/errors.ts'
import { sessionIdCandidates, type SessionStore } from './sessions.ts'

const OPEN = new Set([`${API_BASE}/login`, `${API_BASE}/logout`])

/**
 * Every path under /apis/v2 except login and logout needs a live session (kraken-api.md section 2),
 * unknown paths included: without a session even a 404 is not revealed. Routes then declare
 * the roles they allow in `config.roles`.
 */
export function installSessionGuard (app: FastifyInstance, sessions: () => SessionStore): void {
  app.addHook('onRequest', async function requireSession (request: FastifyRequest) {
    const urlPath = request.url.split('?')[0] ?? ''
    // `/apis/v2` itself (what `/apis/v2/` canonicalizes to) is guarded too: it reveals nothing either.
    if (!(urlPath === API_BASE || urlPath.startsWith(API_BASE + '/')) || OPEN.has(urlPath)) return
    for (const id of sessionIdCandidates(request.headers.cookie)) {
      const session = sessions().touch(id)
      if (session !== undefined) {
        request.session = session
        break
      }
    }
    if (request.session === undefined) throw unauthenticated()
    // Checked before the body is validated, so a forbidden caller learns nothing from a 400.
    const allowed = request.routeOptions.config.roles
    if (allowed !== undefined && !allowed.includes(request.session.role)) {
      throw forbidden(`the ${request.session.role} role may not ${request.method} ${routeOf(request)}`)
    }
  })
}

function routeOf (request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url
}
