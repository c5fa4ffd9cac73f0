import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Clock } from '../kernel/clock.ts'
import { CONTROL_BASE, isControlPath } from '../kernel/route-scope.ts'
import type { FaultAction } from './faults.ts'
import { BODY_CUT, type RequestLog, type StoredEntry } from './request-log.ts'
import { maskBody } from './request-log-mask.ts'
import { braceTemplate } from './request-match.ts'

/** The control plane's own prefix: its requests are neither logged nor faulted. */
export const CONTROL_PREFIX = CONTROL_BASE

/** What the request log's hooks need from the device they belong to. */
export interface RequestLogServices {
  requestLog: RequestLog
  clock: Clock
}

/** A fault that struck a request (set by fault-hooks.ts, read when the request is logged). */
export interface StruckFault { id: string, action: FaultAction, /** The delay it drew (delay actions). */ delayMs?: number }

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived, on the emulator's clock (0 before the request log's first hook). */
    arrivedAt: number
    /** The fault that struck this request, if any. */
    struck: StruckFault | null
    /** The body as parsed, before validation filled defaults in, secrets masked (writes only). */
    loggedBody: unknown
  }
}

/**
 * Stamps each request on arrival and writes one log entry when its answer is sent. Install it
 * before any hook that may answer early (the guards), so a refused request has its arrival time.
 * With the log turned off (--journal-size 0) no hook is installed at all.
 */
export function installRequestLog (app: FastifyInstance, services: () => RequestLogServices): void {
  app.decorateRequest('arrivedAt', 0)
  app.decorateRequest('struck', null)
  app.decorateRequest('loggedBody', undefined)
  if (!services().requestLog.enabled) return
  app.addHook('onRequest', function stampArrival (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    request.arrivedAt = services().clock.now()
    done()
  })
  // The body as the client sent it: validation fills defaults into request.body afterwards.
  app.addHook('preValidation', function keepBody (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const body = request.body
    if (body !== undefined && body !== null && request.method !== 'GET' && request.method !== 'HEAD') {
      request.loggedBody = maskBody(body, services().requestLog.secrets)
    }
    done()
  })
  app.addHook('onResponse', function logRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const s = services()
    recordRequest(s.requestLog, s.clock, request, reply.statusCode)
    done()
  })
}


/** The template of the route a request matched, `{param}` style; null when it matched none. */
export function routeOf (request: FastifyRequest, cache?: Map<string, string>): string | null {
  const url = request.is404 ? undefined : request.routeOptions.url
  if (url === undefined) return null
  let template = cache?.get(url)
  if (template === undefined) {
    template = braceTemplate(url)
    cache?.set(url, template)
  }
  return template
}

/** The path as the client sent it, without the query. */
export function sentPath (request: FastifyRequest): string {
  const raw = request.originalUrl
  const q = raw.indexOf('?')
  return q === -1 ? raw : raw.slice(0, q)
}

/** Writes the entry of one answered request; `status` null when a fault cut the connection. */
export function recordRequest (log: RequestLog, clock: Clock, request: FastifyRequest, status: number | null): void {
  if (!log.enabled) return
  // routeOptions builds a fresh object at each read: read it once.
  const url = request.is404 ? undefined : request.routeOptions.url
  if (url === undefined ? isControlPath(request) : url.startsWith(CONTROL_PREFIX + '/')) return
  const now = clock.now()
  const at = request.arrivedAt === 0 ? now : request.arrivedAt
  const path = sentPath(request)
  let route: string | null = null
  if (url !== undefined) {
    route = log.templates.get(url) ?? null
    if (route === null) {
      route = braceTemplate(url)
      log.templates.set(url, route)
    }
  }
  const headers = request.headers
  // An estimate of the entry's heap, cheap enough for every request: the strings it keeps, an
  // allowance per object and property, and twice its JSON for a parsed body (objects weigh more
  // than their text). Measured over 5,000 GETs and 5,000 POSTs: ~720 bytes of heap per entry
  // (the new inputs included), estimated ~820.
  let bytes = 450 + path.length + (route?.length ?? 0)
  for (const name in headers) {
    const value = headers[name]
    bytes += 48 + name.length + (typeof value === 'string' ? value.length : String(value).length)
  }
  let query: Record<string, unknown> = {}
  const rawQuery = request.query as Record<string, unknown> | undefined
  if (rawQuery !== undefined && rawQuery !== null) {
    for (const _ in rawQuery) {
      query = maskBody(rawQuery, log.secrets) as Record<string, unknown>
      bytes += JSON.stringify(query).length
      break
    }
  }
  const session = request.session
  const entry: StoredEntry = {
    seq: log.nextSeq(),
    at,
    method: request.method,
    path,
    route,
    query,
    // Kept as received and masked when the log is read: a copy per request would cost more.
    rawHeaders: headers,
    status,
    durationMs: now - at,
    user: session?.username ?? null,
    role: session?.role ?? null
  }
  const masked = request.loggedBody
  if (masked !== undefined) {
    const text = JSON.stringify(masked)
    if (text.length > BODY_CUT) {
      entry.body = text.slice(0, BODY_CUT)
      entry.bodyTruncated = true
      bytes += BODY_CUT
    } else {
      entry.body = masked
      bytes += 2 * text.length
    }
  }
  const struck = request.struck
  if (struck !== null) entry.fault = struck.delayMs === undefined ? { id: struck.id, action: struck.action.type } : { id: struck.id, action: struck.action.type, delayMs: struck.delayMs }
  log.add(entry, bytes)
}
