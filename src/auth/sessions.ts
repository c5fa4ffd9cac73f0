import { randomUUID } from 'node:crypto'
import { customAlphabet } from 'nanoid'
import type { Clock } from '../kernel/clock.ts'
import type { SessionIdFormat } from '../config.ts'
import type { Caller } from '../kernel/caller.ts'
import type { Role } from '../kernel/roles.ts'

/** A signed-in user's session: the kernel's Caller (who sends a request), with its lifetime. */
export interface Session extends Caller {
  created: number
  lastSeen: number
}

// The guide's example session id is 40 alphanumerics; nanoid draws them from the CSPRNG.
const token = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 40)

/**
 * Sessions live in memory only: a restart is a reboot and everyone logs in again [ours].
 * The idle timeout slides: every authenticated request pushes the expiry forward.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>()

  constructor (private readonly clock: Clock, private readonly timeoutMs: number, private readonly format: SessionIdFormat) {}

  create (username: string, role: Role): Session {
    const now = this.clock.now()
    const id = this.format === 'token' ? token() : randomUUID()
    const session = { id, username, role, created: now, lastSeen: now }
    this.sessions.set(id, session)
    return session
  }

  /** The live session with this id, touched (sliding expiry); expired ones are dropped. */
  touch (id: string): Session | undefined {
    const session = this.sessions.get(id)
    if (session === undefined) return undefined
    const now = this.clock.now()
    if (now - session.lastSeen >= this.timeoutMs) {
      this.sessions.delete(id)
      return undefined
    }
    session.lastSeen = now
    return session
  }

  expiresAt (session: Session): number {
    return session.lastSeen + this.timeoutMs
  }

  end (id: string): void {
    this.sessions.delete(id)
  }

  /** Ends every session of a user (password change, account deleted or disabled). */
  endUser (username: string, except?: string): void {
    for (const [id, s] of this.sessions) if (s.username === username && id !== except) this.sessions.delete(id)
  }

  /** Refreshes the role of a user's live sessions after an account change. */
  updateRole (username: string, role: Role): void {
    for (const s of this.sessions.values()) if (s.username === username) s.role = role
  }

  /** Ends every session (reset, reboot); requests still in flight with one of them may not write. */
  clear (): void {
    for (const session of this.sessions.values()) session.revoked = true
    this.sessions.clear()
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
