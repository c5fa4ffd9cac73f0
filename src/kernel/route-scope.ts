import type { FastifyRequest } from 'fastify'
import { API_BASE } from './define-resource.ts'

/**
 * Whether a request is addressed to the device's API. Decided on the route that matched (its
 * declared template), never on the URL as sent: the router decodes `%61pis` to `apis`, a string
 * test of `request.url` does not. Only a request that matched no route is judged by its path, read
 * as liberally as any server on the way could read it (every %-escape decoded, backslashes as
 * slashes, `;` parameters and dot segments dropped, any case), so that an odd spelling of an API
 * path is answered like the API would answer it (401 without a session, 503 during a reboot).
 */
export function isDeviceRequest (request: FastifyRequest): boolean {
  if (!request.is404) return isDeviceRoute(request.routeOptions.url ?? '')
  return /^\/apis(\/|$)/.test(loosePath(request.url))
}

/** The emulator's own control routes live under this prefix (never a device path). */
export const CONTROL_BASE = '/_emulator'

/**
 * Whether a request that matched no route is addressed to the control routes (read as loosely as
 * isDeviceRequest reads the API's paths), so that without the control token not even the
 * existence of a control path, or the methods it allows, is revealed.
 */
export function isControlPath (request: FastifyRequest): boolean {
  const path = loosePath(request.url)
  return path === CONTROL_BASE || path.startsWith(CONTROL_BASE + '/')
}

/** Whether a request is the control plane's: by the route it matched, or its loosest path when none. */
export function isControlRequest (request: FastifyRequest): boolean {
  if (!request.is404) return (request.routeOptions.url ?? '').startsWith(CONTROL_BASE + '/')
  return isControlPath(request)
}

export function isDeviceRoute (template: string): boolean {
  return template === API_BASE || template.startsWith(API_BASE + '/')
}

/** The path of a URL in its loosest reading, lower-cased; for classifying, never for routing. */
export function loosePath (url: string): string {
  let path = url.split('?')[0] ?? ''
  // Double (and triple) encoding: decode until nothing changes.
  for (let i = 0; i < 4; i++) {
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch {
      decoded = path.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    }
    if (decoded === path) break
    path = decoded
  }
  path = path.replace(/\\/g, '/').replace(/;[^/]*/g, '').replace(/\/{2,}/g, '/').toLowerCase()
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '.' || segment === '') continue
    if (segment === '..') segments.pop()
    else segments.push(segment.trim())
  }
  return '/' + segments.join('/')
}
