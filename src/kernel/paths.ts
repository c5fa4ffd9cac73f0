import { API_BASE } from './define-resource.ts'
import type { Registry } from './registry.ts'

/**
 * Rewrites a request URL to the one form the router knows. Field clients double slashes
 * (`/apis/v2//streams`), add trailing ones, and address items by bare id (`/apis/v2/inputs/<uuid>`)
 * [field]; the prefixed form `/inputs/input-<uuid>` is canonical. Doing it here, once, keeps one
 * route (and one /apidoc entry) per operation. Upper-case UUIDs are lowered.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function canonicalUrl (url: string, registry: Registry): string {
  const q = url.indexOf('?')
  const rawPath = q === -1 ? url : url.slice(0, q)
  const query = q === -1 ? '' : url.slice(q)
  let path = rawPath.replace(/\/{2,}/g, '/')
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  if (!path.startsWith(API_BASE + '/')) return path + query

  const segments = path.slice(API_BASE.length + 1).split('/')
  let resource = registry.top(segments[0] ?? '')
  for (let i = 1; resource !== undefined && i < segments.length; i += 2) {
    let id = segments[i]!
    if (!id.startsWith(`${resource.singular}-`)) id = `${resource.singular}-${id}`
    // UUIDs are hexadecimal, so their case carries no meaning: an upper-case one names the stored
    // (lower-case) item [ours]. Names chosen by people (accounts) keep their case.
    if (resource.serverAssignsId) {
      const bare = id.slice(resource.singular.length + 1)
      if (UUID.test(bare)) id = `${resource.singular}-${bare.toLowerCase()}`
    }
    segments[i] = id
    const next = segments[i + 1]
    resource = next === undefined ? undefined : registry.childByPlural(resource, next)
  }
  return `${API_BASE}/${segments.join('/')}${query}`
}
