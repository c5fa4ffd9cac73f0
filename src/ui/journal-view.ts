import type { Caller } from '../kernel/caller.ts'
import { API_BASE, itemRoute, type Resource } from '../kernel/define-resource.ts'
import type { Registry } from '../kernel/registry.ts'
import type { StoredEntry } from '../control/request-log.ts'

/** One request as the page's feed shows it: no headers, no body (what was done, by whom, and the answer). */
export interface JournalView {
  seq: number
  at: number
  method: string
  path: string
  status: number | null
  duration_ms: number
  /** The account that sent it; null when none was signed in, or the viewer may not see that account. */
  user: string | null
  role: string | null
}

/** Marks the live page's own background requests (web/app.js sends it). */
export const PAGE_HEADER = 'x-kraken-page'

interface Restricted { resource: Resource, template: string, pattern: RegExp }

/**
 * Decides which entries of the request log a viewer may see, by the rules the API applies to what
 * that viewer may read: a resource that hides items from some sessions (`visible`: a Viewer sees
 * only its own account) hides the requests to those items too, and the name of an account the
 * viewer may not see is not shown. Only requests to the device's API are shown, not the page's
 * own background ones (its assets, its event stream, its thumbnails).
 */
export class JournalFilter {
  private readonly restricted: Restricted[]
  private readonly accounts: Resource | undefined

  constructor (registry: Registry) {
    this.restricted = registry.resources.filter(r => r.spec.visible !== undefined).map(resource => {
      const template = itemRoute(resource).replace(/:(\w+)/g, '{$1}')
      // The path as sent: the id is the segment after `<singular>-` (or the bare id), %-encoded or not.
      const pattern = new RegExp(`/${resource.plural}/+(?:${resource.singular}-)?([^/?]+)`)
      return { resource, template, pattern }
    })
    this.accounts = registry.resources.find(r => r.collection === 'accounts')
  }

  /** The entry as `viewer` may see it, or undefined when it is not for them. */
  view (entry: StoredEntry, viewer: Caller): JournalView | undefined {
    if (!entry.path.startsWith(API_BASE + '/') && !(entry.route ?? '').startsWith(API_BASE + '/')) return undefined
    // The page's own background requests (its thumbnails) would drown what the class should see.
    if (entry.rawHeaders[PAGE_HEADER] !== undefined) return undefined
    for (const { resource, template, pattern } of this.restricted) {
      const named = pattern.exec(entry.path)
      // The route decides when there is one; an unmatched path is judged by what it names.
      if (named === null && (entry.route === null || !entry.route.startsWith(template))) continue
      const id = idOf(named?.[1])
      // A path this filter cannot read names an item it cannot vouch for: hidden (fail closed).
      if (id === undefined || !this.visible(resource, viewer, id)) return undefined
    }
    const user = entry.user !== null && (this.accounts === undefined || this.visible(this.accounts, viewer, entry.user)) ? entry.user : null
    return { seq: entry.seq, at: entry.at, method: entry.method, path: entry.path, status: entry.status, duration_ms: entry.durationMs, user, role: entry.role }
  }

  private visible (resource: Resource, viewer: Caller, id: string): boolean {
    const visible = resource.spec.visible
    return visible === undefined || visible(viewer, { [resource.idField]: id })
  }
}

function idOf (raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  try {
    return decodeURIComponent(raw)
  } catch {
    // A malformed %-escape: the router refused that request; there is no item to name.
    return undefined
  }
}
