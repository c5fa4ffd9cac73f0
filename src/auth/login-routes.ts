import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { KrakenError } from '../kernel/errors.ts'
import { errorResponses, NoContent } from '../kernel/schemas.ts'
import { RoleSchema, type Role } from '../kernel/roles.ts'
import { dummyHashFor, verifyPassword } from './passwords.ts'
import type { Item, Store } from '../kernel/store.ts'
import type { Config } from '../config.ts'
import type { Lockout } from './lockout.ts'
import { LoginLanes } from './login-lanes.ts'
import { deviceLocal } from '../kernel/device-local.ts'
import { sessionIdCandidates, type Session, type SessionStore } from './sessions.ts'

/** Keys a login does not know (`remember`) are ignored, as appliance logins do; resources stay strict. */
export const LoginBody = Type.Object({
  username: Type.String({ maxLength: 256, description: 'account name' }),
  password: Type.String({ maxLength: 1024, description: 'the account password' })
}, { additionalProperties: true, examples: [{ username: 'haiadmin', password: 'krakenapi' }] })

const SessionInfo = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  created: Type.Integer({ description: 'epoch seconds' }),
  expires: Type.Integer({ description: 'epoch seconds; slides forward with every request' })
}, { additionalProperties: false })

const noCache = {
  'cache-control': 'no-cache, no-store, must-revalidate',
  pragma: 'no-cache',
  expires: '0'
}
const cookieAttributes = { path: '/', secure: true, sameSite: 'strict' } as const

/** What the login routes need of the emulator (src/services.ts provides it). */
export interface LoginServices {
  config: Pick<Config, 'loginQueue' | 'maxSessions' | 'passwordHash'>
  store: Store
  sessions: SessionStore
  lockout: Lockout
}

/** Login, logout and the session introspection route (kraken-api.md section 2). */
export function registerLoginRoutes (app: FastifyInstance, services: () => LoginServices): void {
  // One per device (a fleet app serves many): see kernel/device-local.ts.
  const lanesOf = deviceLocal((s: LoginServices) => new LoginLanes(s.config.loginQueue))

  /**
   * The account this login may open a session for, or undefined. Every way to fail (unknown
   * name, wrong password, Disabled, Locked by an Administrator or by the lockout) costs exactly
   * one hash and gets the same answer from the caller, so neither tells which names exist.
   */
  async function authenticate (username: string, password: string, lane: string): Promise<Item | undefined> {
    const { store, lockout, config } = services()
    const dummy = dummyHashFor(config.passwordHash)
    if (store.get('accounts', username) === undefined) {
      await verifyPassword(password, dummy, lane)
      return undefined
    }
    // Counted before the hash is awaited (see Lockout); may wait for attempts in flight to settle.
    const attempt = await lockout.reserve(username)
    // Read after the wait: an Administrator may have changed or deleted the account meanwhile.
    const account = store.get('accounts', username)
    if (attempt === undefined || account === undefined) {
      attempt?.dropped()
      await verifyPassword(password, dummy, lane)
      return undefined
    }
    let ok: boolean
    try {
      ok = await verifyPassword(password, account.password_hash, lane)
    } catch (error) {
      attempt.dropped()
      throw error
    }
    if (!ok) {
      attempt.failed()
      return undefined
    }
    const latest = store.get('accounts', username)
    // A right password for an account that may not log in neither counts nor resets the count.
    if (latest?.state !== 'Active') {
      attempt.dropped()
      return undefined
    }
    attempt.succeeded()
    return latest
  }

  /** 503 when the session table is full [ours]: refused, never made room for by ending a session. */
  function sessionsFull (request: FastifyRequest, reply: FastifyReply, retryAfter: number): FastifyReply {
    // Not an error of the emulator (the error handler logs 5xx as such): a limit doing its job.
    request.log.warn({ maxSessions: services().config.maxSessions }, 'login refused: the session table is full')
    return reply.code(503).header('retry-after', String(retryAfter)).type('application/json; charset=utf-8')
      .send({ error: { type: 'ServiceUnavailable', message: 'too many sessions are open; try again later', details: [] } })
  }

  app.post(`${API_BASE}/login`, {
    config: { access: 'open' },
    schema: {
      tags: ['Session'], operationId: 'login', summary: 'Log in',
      description: 'On success: 204 with an HttpOnly `id` session cookie. Any cookie or Authorization header the request carries is ignored. ' +
        'Every failure is the same 401. 429 (with Retry-After) while too many logins for the name, or for names that do not exist, are in progress; ' +
        '503 (with Retry-After) while the session table is full (`--max-sessions`).',
      body: LoginBody,
      response: { 204: NoContent, ...errorResponses(400, 401, 413, 415, 429, 500, 503) }
    }
  }, async function login (request: FastifyRequest, reply: FastifyReply) {
    const { username, password } = request.body as { username: string, password: string }
    const { store, sessions } = services()
    // Checked first, before any hash: every name gets it alike, and no guess is checked.
    const before = sessions.full()
    if (before !== undefined) return sessionsFull(request, reply, before)
    const ticket = lanesOf(services()).enter(username, store.get('accounts', username) !== undefined)
    if (ticket === undefined) {
      throw new KrakenError('TooManyRequests', 'too many logins are in progress for this name; try again shortly', [], { 'retry-after': '1' })
    }
    let account: Item | undefined
    try {
      account = await authenticate(username, password, ticket.lane)
    } finally {
      ticket.leave()
    }
    if (account === undefined) throw new KrakenError('SessionAuthentication', 'invalid username or password')
    // Again right before creating (no await in between): concurrent logins may have filled it.
    const after = sessions.full()
    if (after !== undefined) return sessionsFull(request, reply, after)
    const session = sessions.create(username, account.role as Role)
    return reply
      .code(204)
      .headers(noCache)
      .setCookie('DisplayUnsavedWarning', '', { ...cookieAttributes, maxAge: 100000 })
      .setCookie('id', session.id, { ...cookieAttributes, httpOnly: true })
      .send()
  })

  const logoutSchema = (method: string) => ({
    tags: ['Session'], operationId: `logout${method}`, summary: `Log out (${method})`,
    description: 'Always 204, with or without a valid session; ends the named session and expires the cookie.',
    response: { 204: NoContent, ...errorResponses(500) }
  })
  async function logout (request: FastifyRequest, reply: FastifyReply) {
    const { sessions } = services()
    for (const id of sessionIdCandidates(request.headers.cookie)) sessions.end(id)
    return reply
      .code(204)
      .headers(noCache)
      .setCookie('id', '', { ...cookieAttributes, httpOnly: true, maxAge: 0 })
      .send()
  }
  // Logout answers 204 whatever body comes with it (a form content type, text, broken JSON): it
  // reads none, and field clients log out before every login with whatever their library sends.
  // Its own plugin scope gives it a parser that accepts and drops any body (the 1 MiB limit stays).
  void app.register(async function logoutRoutes (scope) {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, function ignoreBody (_request, _body, done) { done(null, undefined) })
    const open = { access: 'open' } as const
    scope.get(`${API_BASE}/logout`, { config: open, schema: logoutSchema('Get') }, logout)
    scope.post(`${API_BASE}/logout`, { config: open, schema: logoutSchema('Post') }, logout)
    scope.delete(`${API_BASE}/logout`, { config: open, schema: logoutSchema('Delete') }, logout)
  })

  app.get(`${API_BASE}/session`, {
    schema: {
      tags: ['Session'], operationId: 'getSession', summary: 'The caller\'s session',
      security: [{ session: [] }],
      response: { 200: SessionInfo, ...errorResponses(401, 500, 503) }
    }
  }, async function getSession (request: FastifyRequest) {
    // The session guard sets the Session it found (the kernel types it as a mere Caller).
    const session = request.session as Session
    const { sessions } = services()
    return {
      username: session.username,
      role: session.role,
      created: Math.floor(session.created / 1000),
      expires: Math.floor(sessions.expiresAt(session) / 1000)
    }
  })
}
