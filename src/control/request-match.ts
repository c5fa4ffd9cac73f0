/**
 * How the request log's filters and the faults' matchers pick requests: by method, by path (a
 * route template, a glob or an exact path) and by the session's user.
 */

/** What a matcher looks at in a request (a log entry, or a request in flight). */
export interface RequestFacts {
  method: string
  /** The path as sent, without the query. */
  path: string
  /** The route template that matched, `{param}` style; null when no route matched. */
  route: string | null
  user: string | null
}

/**
 * A path pattern, one of:
 * - a route template with `{...}` parameters, `/apis/v2/streams/stream-{streamId}`: the request
 *   matched that route (parameter names do not matter);
 * - a glob, `/apis/v2/streams/*` (`*` within one segment, `**` across segments): the path as sent;
 * - anything else: the path as sent, or the template of the route it matched, exactly.
 */
export function pathMatcher (pattern: string): (facts: RequestFacts) => boolean {
  const trimmed = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern
  if (trimmed.includes('{')) {
    const template = anonymous(trimmed)
    return facts => facts.route !== null && anonymous(facts.route) === template
  }
  if (trimmed.includes('*')) {
    // URL paths are not file paths (no dot files, no brace sets): a two-rule glob is all it takes.
    const source = trimmed.split(/(\*\*|\*)/).map(part => part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('')
    const regex = new RegExp(`^${source}/?$`)
    return facts => regex.test(facts.path)
  }
  return facts => facts.path.replace(/(.)\/+$/, '$1') === trimmed || facts.route === trimmed
}

/** A template with its parameter names dropped: `/a/x-{id}` -> `/a/x-{}`. */
function anonymous (template: string): string {
  return template.replace(/\{[^}]*\}/g, '{}')
}

/** Fastify's `:name` parameters as `{name}`, the spelling of the OpenAPI document and the README. */
export function braceTemplate (url: string): string {
  return url.replace(/:(\w+)/g, '{$1}')
}

/** The fields common to a log filter and a fault's matcher. */
export interface RequestMatcher {
  method?: string
  path?: string
  user?: string
}

/** A predicate for a matcher; every given field must hold. */
export function compileMatcher (matcher: RequestMatcher): (facts: RequestFacts) => boolean {
  const method = matcher.method?.toUpperCase()
  const path = matcher.path === undefined ? undefined : pathMatcher(matcher.path)
  const user = matcher.user
  return facts => (method === undefined || facts.method === method) &&
    (user === undefined || facts.user === user) &&
    (path === undefined || path(facts))
}
