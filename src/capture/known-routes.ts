import FindMyWay, { type HTTPMethod, type HTTPVersion } from 'find-my-way'
import { buildApp, type KrakenApp } from '../app.ts'
import { secretFields } from '../control/request-log-mask.ts'
import { braceTemplate } from '../control/request-match.ts'

/** An emulator built in memory, never listening: what the capture tools learn the API from. */
export async function modelApp (): Promise<KrakenApp> {
  const app = await buildApp({ inMemory: true, logLevel: 'silent', transitionMs: 0 })
  await app.ready()
  return app
}

/** Every GET route of the device API (`:param` style), parents before children; no login, logout or control route. */
export function deviceGetRoutes (app: KrakenApp): string[] {
  return app.kraken.routes.routes
    .filter(r => r.method === 'GET' && r.url.startsWith('/apis/v2/') && r.access === 'session' && !/\/(login|logout)$/.test(r.url))
    .map(r => r.url)
    .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))
}

/** Every field name whose value the capture masks, besides the patterns secret-masker.ts knows. */
export function captureSecretFields (app: KrakenApp): Set<string> {
  return new Set(secretFields(app.kraken.registry))
}

/** Maps a concrete path to the `{param}` template of the route that serves it. */
export class RouteMatcher {
  private readonly router = FindMyWay<HTTPVersion.V1>({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true })

  constructor (app: KrakenApp) {
    const seen = new Set<string>()
    for (const r of app.kraken.routes.routes) {
      if (seen.has(`${r.method} ${r.url}`)) continue
      seen.add(`${r.method} ${r.url}`)
      this.router.on(r.method as HTTPMethod, r.url, () => {}, { template: braceTemplate(r.url) })
    }
  }

  /** The route a concrete path takes: its `{param}` template and the params; undefined when none. */
  match (method: string, path: string): { template: string, params: Record<string, string> } | undefined {
    const found = this.router.find(method as HTTPMethod, path) ?? this.router.find(method as HTTPMethod, bareToPrefixed(path))
    if (found === null) return undefined
    const params: Record<string, string> = {}
    for (const [name, value] of Object.entries(found.params)) if (value !== undefined) params[name] = value
    return { template: (found.store as { template: string }).template, params }
  }

  /** The template, or the path with UUIDs written `{id}` when no route matches. */
  template (method: string, path: string): string {
    return this.match(method, path)?.template ?? path.replace(UUID_IN_PATH, '{id}')
  }
}

const UUID_IN_PATH = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi

/** `/apis/v2/inputs/<uuid>` → `/apis/v2/inputs/input-<uuid>` (the bare form the device also answers). */
function bareToPrefixed (path: string): string {
  return path.replace(/^(\/apis\/v2\/)(\w+?)s\/([0-9a-f-]{36})(\/|$)/i, (_m, base: string, singular: string, id: string, end: string) => `${base}${singular}s/${singular}-${id}${end}`)
}
