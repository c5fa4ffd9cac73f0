import FindMyWay, { type HTTPMethod, type HTTPVersion } from 'find-my-way'
import type { FastifyInstance } from 'fastify'
import type { Role } from '../kernel/roles.ts'
import type { RouteAccess } from '../kernel/route-config.ts'

export interface RouteInfo {
  method: string
  url: string
  /** Who may call it (declared where the route is registered; `session` when undeclared). */
  access: RouteAccess
  /** Roles the route allows; undefined: any signed-in role (for `session` routes). */
  roles: readonly Role[] | undefined
  operationId: string | undefined
  summary: string | undefined
  /** Left out of /apidoc (static assets, redirects). */
  hidden: boolean
}

const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/**
 * A copy of the route table that answers "which methods does this path allow?", so an unknown
 * method on a known path gets 405 with `Allow` instead of Fastify's 404. It also lists every
 * route with its roles, for the README's endpoint table and the tests that must miss none.
 */
export class RouteIndex {
  private readonly router = FindMyWay<HTTPVersion.V1>({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true })
  readonly routes: RouteInfo[] = []

  attach (app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      for (const method of methods) {
        if (!METHODS.includes(method as HTTPMethod) || route.url.includes('*')) continue
        if (this.routes.some(r => r.method === method && r.url === route.url)) continue
        const schema = route.schema as { operationId?: string, summary?: string, hide?: boolean } | undefined
        this.routes.push({
          method,
          url: route.url,
          // Read when asked: an onRoute hook of a plugin scope (the documentation's) may declare
          // the access after this root hook has run.
          get access () { return route.config?.access ?? 'session' },
          roles: route.config?.roles,
          operationId: schema?.operationId,
          summary: schema?.summary,
          hidden: schema?.hide === true || schema === undefined
        })
        this.router.on(method as HTTPMethod, route.url, () => {})
      }
    })
  }

  allowed (path: string): string[] {
    return METHODS.filter(m => this.router.find(m, path) !== null)
  }
}
