import { randomUUID } from 'node:crypto'
import { customAlphabet } from 'nanoid'
import type { Clock } from '../kernel/clock.ts'
import type { SessionIdFormat } from '../config.ts'
import type { Caller } from '../kernel/caller.ts'
import type { Role } from '../kernel/roles.ts'

/** Why a session ended, for those who watch (the live page's event stream says so and closes). */
export type SessionEndReason = 'logout' | 'timeout' | 'account' | 'reset' | 'reboot' | 'expired'

/** A signed-in user's session: the kernel's Caller (who sends a request), with its lifetime. */
export interface Session extends Caller {
  created: number
  lastSeen: number
}

// The guide's example session id is 40 alphanumerics; nanoid draws them from the CSPRNG.
const token = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 40)

// Sweeps are at least this far apart (sessions expiring one after another are dropped together),
// and one sweep drops at most this many sessions per event-loop turn: dropping 200,000 in one go
// held the event loop for over a second on a busy 2-core machine.
const MIN_SWEEP_GAP_MS = 1000
const SWEEP_CHUNK = 10_000

/**
 * Sessions live in memory only: a restart is a reboot and everyone logs in again [ours].
 * The idle timeout slides: every authenticated request pushes the expiry forward.
 *
 * Expired sessions are swept on a timer of the emulator's clock (they used to stay until
 * presented again: 200,000 logins never logged out held 117 MB of heap), and at most
 * `maxSessions` live at once: a login past the cap is refused (`full()`), never answered by
 * ending someone else's session. The map is kept in the order of last use (a touch moves the
 * session to the end), so the expired ones are always at its front: a sweep visits only them.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>()
  private sweepAt = Number.POSITIVE_INFINITY
  private cancelSweep: (() => void) | undefined
  private stopped = false
  private readonly watchers = new Set<(id: string, reason: SessionEndReason) => void>()

  constructor (
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly format: SessionIdFormat,
    private readonly maxSessions = Number.POSITIVE_INFINITY
  ) {}

  create (username: string, role: Role): Session {
    const now = this.clock.now()
    const id = this.format === 'token' ? token() : randomUUID()
    const session = { id, username, role, created: now, lastSeen: now }
    this.sessions.set(id, session)
    this.scheduleSweep(now + this.timeoutMs)
    return session
  }

  /**
   * When the cap is reached (after dropping whatever has expired): the seconds until the first
   * live session can expire, for Retry-After. Undefined while a session may be created.
   */
  full (): number | undefined {
    if (this.sessions.size < this.maxSessions) return undefined
    this.dropExpired(Number.POSITIVE_INFINITY)
    const oldest = this.sessions.values().next()
    if (oldest.done === true || this.sessions.size < this.maxSessions) return undefined
    return Math.max(1, Math.ceil((this.expiresAt(oldest.value) - this.clock.now()) / 1000))
  }

  /** The live session with this id, touched (sliding expiry); expired ones are dropped. */
  touch (id: string): Session | undefined {
    const session = this.sessions.get(id)
    if (session === undefined) return undefined
    const now = this.clock.now()
    if (now - session.lastSeen >= this.timeoutMs) {
      this.sessions.delete(id)
      this.ended(id, 'timeout')
      return undefined
    }
    session.lastSeen = now
    this.sessions.delete(id)
    this.sessions.set(id, session)
    return session
  }

  expiresAt (session: Session): number {
    return session.lastSeen + this.timeoutMs
  }

  end (id: string): void {
    if (this.sessions.delete(id)) this.ended(id, 'logout')
  }

  /** Ends every session of a user (password change, account deleted or disabled). */
  endUser (username: string, except?: string): void {
    for (const [id, s] of this.sessions) {
      if (s.username === username && id !== except) {
        this.sessions.delete(id)
        this.ended(id, 'account')
      }
    }
  }

  /** Refreshes the role of a user's live sessions after an account change. */
  updateRole (username: string, role: Role): void {
    for (const s of this.sessions.values()) if (s.username === username) s.role = role
  }

  /** Ends every session (reset, reboot); requests still in flight with one of them may not write. */
  clear (reason: SessionEndReason = 'reset'): void {
    for (const session of this.sessions.values()) session.revoked = true
    const ids = this.watchers.size === 0 ? [] : [...this.sessions.keys()]
    this.sessions.clear()
    for (const id of ids) this.ended(id, reason)
  }

  /** True while the session lives, without touching it (a watcher must not keep it alive). */
  isLive (id: string): boolean {
    const session = this.sessions.get(id)
    return session !== undefined && this.clock.now() - session.lastSeen < this.timeoutMs
  }

  /** Calls `watcher` with the id of every session that ends from now on, and why; returns the unsubscribe. */
  watch (watcher: (id: string, reason: SessionEndReason) => void): () => void {
    this.watchers.add(watcher)
    return () => { this.watchers.delete(watcher) }
  }

  /** Drops expired sessions, a chunk per turn, and schedules the next sweep for the next expiry. */
  sweep (): void {
    const now = this.clock.now()
    if (this.dropExpired(SWEEP_CHUNK)) {
      this.scheduleSweep(now)
      return
    }
    const oldest = this.sessions.values().next()
    if (oldest.done !== true) this.scheduleSweep(Math.max(this.expiresAt(oldest.value), now + MIN_SWEEP_GAP_MS))
  }

  /** Cancels the sweep timer for good (the emulator is closing). */
  stop (): void {
    this.stopped = true
    this.cancelSweep?.()
    this.cancelSweep = undefined
  }

  /** Drops up to `limit` expired sessions, oldest first; true when expired ones remain. */
  private dropExpired (limit: number): boolean {
    const now = this.clock.now()
    let dropped = 0
    for (const [id, session] of this.sessions) {
      if (this.expiresAt(session) > now) return false
      if (dropped === limit) return true
      this.sessions.delete(id)
      this.ended(id, 'timeout')
      dropped++
    }
    return false
  }

  private ended (id: string, reason: SessionEndReason): void {
    for (const watcher of this.watchers) watcher(id, reason)
  }

  private scheduleSweep (at: number): void {
    if (this.stopped || (this.cancelSweep !== undefined && this.sweepAt <= at)) return
    this.cancelSweep?.()
    this.sweepAt = at
    this.cancelSweep = this.clock.setTimeout(() => {
      this.cancelSweep = undefined
      this.sweepAt = Number.POSITIVE_INFINITY
      this.sweep()
    }, at - this.clock.now())
  }

  get size (): number {
    return this.sessions.size
  }
}

/**
 * Every `id` value in a Cookie header, in order. Field clients send two Cookie lines (joined by
 * `; `), attribute tokens copied from Set-Cookie, empty segments and the same name twice, and
 * cookie parsers keep only the first value; the session guard wants every candidate [field].
 */
export function sessionIdCandidates (header: string | string[] | undefined): string[] {
  if (header === undefined) return []
  const text = Array.isArray(header) ? header.join('; ') : header
  const ids: string[] = []
  for (const segment of text.split(';')) {
    const eq = segment.indexOf('=')
    if (eq === -1) continue
    if (segment.slice(0, eq).trim() !== 'id') continue
    let value = segment.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (value !== '') ids.push(value)
  }
  return ids
}
