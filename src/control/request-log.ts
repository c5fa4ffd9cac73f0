import type { IncomingHttpHeaders } from 'node:http'
import { compileMatcher, type RequestFacts, type RequestMatcher } from './request-match.ts'
import { maskHeaders } from './request-log-mask.ts'

/** One request as the log keeps it: what a client sent and what it got. Secrets are masked. */
export interface RequestLogEntry extends RequestFacts {
  /** 1, 2, 3... in arrival order; never reused, not even after a clear. */
  seq: number
  /** When the request arrived, on the emulator's clock (ISO 8601). */
  time: string
  /** The same, in ms since the epoch (for `since`). */
  at: number
  query: Record<string, unknown>
  headers: Record<string, string | string[]>
  /** The parsed body of a write, secrets masked; a string when cut (see bodyTruncated). */
  body?: unknown
  /** The body was over BODY_CUT characters of JSON: `body` is its first BODY_CUT characters. */
  bodyTruncated?: boolean
  /** The status the client got; null when a fault cut the connection without an answer. */
  status: number | null
  /** From arrival to the last byte sent, on the emulator's clock (ms). */
  durationMs: number
  role: string | null
  /** The fault that struck this request, if any. */
  fault?: { id: string, action: string, delayMs?: number }
}

/**
 * An entry as the ring holds it. The parts that cost most to build (the ISO time, the masked copy
 * of the headers) are made when the log is read, not on every request.
 */
export type StoredEntry = Omit<RequestLogEntry, 'time' | 'headers'> & { rawHeaders: IncomingHttpHeaders }

/** The entry as it is served: its time in ISO 8601, cookie values and credentials masked. */
function present (stored: StoredEntry): RequestLogEntry {
  const { rawHeaders, ...rest } = stored
  return { ...rest, time: new Date(stored.at).toISOString(), headers: maskHeaders(rawHeaders) }
}

/** Bodies longer than this (as JSON) are cut, so one large write cannot fill the log. */
export const BODY_CUT = 4096

/** Filters of GET /_emulator/requests and emu.requests(); every given one must hold. */
export interface RequestFilter extends RequestMatcher {
  /** An exact status (`404`), a class (`4xx`), or null: no answer (a fault cut the connection). */
  status?: string | number | null
  /** Only requests that arrived at or after this time (ISO 8601 or ms since the epoch). */
  since?: string | number | Date
  /** true: only requests that matched no route; false: only those that matched one. */
  unmatched?: boolean
  /** The newest `limit` of the matching requests. */
  limit?: number
}

export interface RequestLogLimits {
  /** Entries kept; 0 turns the log off. */
  entries: number
  /** Bytes kept (estimated per entry); 0 turns the log off. */
  bytes: number
}

/**
 * The device's request journal (not the store's: that is kernel/journal.ts): a ring bounded by a
 * number of entries and by an estimate of their bytes, oldest dropped first. The newest entry is
 * always kept, so the bound can be exceeded by one entry (at most a few KB: bodies are cut).
 */
export class RequestLog {
  readonly limits: RequestLogLimits
  /** Body, query and header fields whose values are masked (see request-log-mask.ts). */
  readonly secrets: ReadonlySet<string>
  private entries: StoredEntry[] = []
  /** `{param}` templates of Fastify's `:param` routes, made once per route. */
  readonly templates = new Map<string, string>()
  private sizes: number[] = []
  /** Index of the oldest live entry: dropping from the front is O(1), compacted now and then. */
  private head = 0
  private bytes = 0
  private seq = 0
  /** Entries dropped to stay within the bounds since the last clear. */
  dropped = 0
  private readonly watchers = new Set<(entry: StoredEntry) => void>()

  constructor (limits: RequestLogLimits, secrets: ReadonlySet<string> = new Set()) {
    this.limits = limits
    this.secrets = secrets
  }

  get enabled (): boolean {
    return this.limits.entries > 0 && this.limits.bytes > 0
  }

  get size (): number {
    return this.entries.length - this.head
  }

  get byteEstimate (): number {
    return this.bytes
  }

  nextSeq (): number {
    return ++this.seq
  }

  /** Adds an entry of about `bytes` bytes, dropping the oldest ones beyond the bounds. */
  add (entry: StoredEntry, bytes: number): void {
    if (!this.enabled) return
    for (const watcher of this.watchers) watcher(entry)
    this.entries.push(entry)
    this.sizes.push(bytes)
    this.bytes += bytes
    while (this.size > 1 && (this.size > this.limits.entries || this.bytes > this.limits.bytes)) {
      this.bytes -= this.sizes[this.head]!
      this.head++
      this.dropped++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.sizes = this.sizes.slice(this.head)
      this.head = 0
    }
  }

  /** The matching entries, oldest first; with `limit`, the newest `limit` of them. */
  query (filter: RequestFilter = {}): RequestLogEntry[] {
    const test = compileFilter(filter)
    const out: StoredEntry[] = []
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!
      if (test(entry)) out.push(entry)
    }
    return (filter.limit === undefined ? out : out.slice(Math.max(0, out.length - filter.limit))).map(present)
  }

  count (filter: RequestFilter = {}): number {
    const test = compileFilter(filter)
    let n = 0
    for (let i = this.head; i < this.entries.length; i++) if (test(this.entries[i]!)) n++
    return n
  }

  /** Every entry, oldest first. */
  all (): RequestLogEntry[] {
    return this.entries.slice(this.head).map(present)
  }

  /** Calls `watcher` with every entry added from now on (the live page's feed); returns the unsubscribe. */
  watch (watcher: (entry: StoredEntry) => void): () => void {
    this.watchers.add(watcher)
    return () => { this.watchers.delete(watcher) }
  }

  clear (): void {
    this.entries = []
    this.sizes = []
    this.head = 0
    this.bytes = 0
    this.dropped = 0
  }
}

/** A predicate for a filter. The filter's values are assumed valid (see parseRequestFilter). */
export function compileFilter (filter: RequestFilter): (entry: RequestFacts & { status: number | null, at: number }) => boolean {
  const matcher = compileMatcher(filter)
  const status = statusTest(filter.status)
  const since = filter.since === undefined ? undefined : sinceMs(filter.since)
  const unmatched = filter.unmatched
  return entry => matcher(entry) &&
    (status === undefined || status(entry.status)) &&
    (since === undefined || entry.at >= since) &&
    (unmatched === undefined || (entry.route === null) === unmatched)
}

function statusTest (status: string | number | null | undefined): ((s: number | null) => boolean) | undefined {
  if (status === undefined) return undefined
  if (status === null) return s => s === null
  const text = String(status)
  if (/^[1-5]xx$/i.test(text)) {
    const hundreds = Number(text[0])
    return s => s !== null && Math.floor(s / 100) === hundreds
  }
  const exact = Number(text)
  return s => s === exact
}

/** ms since the epoch of a `since` value: a Date, a number of ms, or an ISO 8601 string. NaN when unreadable. */
export function sinceMs (since: string | number | Date): number {
  if (since instanceof Date) return since.getTime()
  if (typeof since === 'number') return since
  return /^\d+$/.test(since) ? Number(since) : Date.parse(since)
}
