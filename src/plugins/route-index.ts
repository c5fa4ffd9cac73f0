import FindMyWay, { type HTTPMethod, type HTTPVersion } from 'find-my-way'
import type { FastifyInstance } from 'fastify'

const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/**
 * A copy of the route table that answers "which methods does this path allow?", so an unknown
 * method on a known path gets 405 with `Allow` instead of Fastify's 404.
 */
export class RouteIndex {
  private readonly router = FindMyWay<HTTPVersion.V1>({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true })
  readonly routes: Array<{ method: string, url: string }> = []

  attach (app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      for (const method of methods) {
        if (!METHODS.includes(method as HTTPMethod) || route.url.includes('*')) continue
        if (this.routes.some(r => r.method === method && r.url === route.url)) continue
        this.routes.push({ method, url: route.url })
        this.router.on(method as HTTPMethod, route.url, () => {})
      }
    })
  }

  allowed (path: string): string[] {
    return METHODS.filter(m => this.router.find(m, path) !== null)
  }
}
