import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { KrakenError } from '../kernel/errors.ts'
import { errorResponses, NoContent } from '../kernel/schemas.ts'
import { RoleSchema, type Role } from '../kernel/roles.ts'
import { dummyHash, verifyPassword } from './passwords.ts'
import type { Store } from '../kernel/store.ts'
import type { Lockout } from './lockout.ts'
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
  store: Store
  sessions: SessionStore
  lockout: Lockout
}

/** Login, logout and the session introspection route (kraken-api.md section 2). */
export function registerLoginRoutes (app: FastifyInstance, services: () => LoginServices): void {
  app.post(`${API_BASE}/login`, {
    config: { access: 'open' },
    schema: {
      tags: ['Session'], operationId: 'login', summary: 'Log in',
      description: 'On success: 204 with an HttpOnly `id` session cookie. Any cookie or Authorization header the request carries is ignored.',
      body: LoginBody,
      response: { 204: NoContent, ...errorResponses(400, 401, 413, 415, 500, 503) }
    }
  }, async function login (request: FastifyRequest, reply: FastifyReply) {
    const { username, password } = request.body as { username: string, password: string }
    const { store, sessions, lockout } = services()
    const account = store.get('accounts', username)
    const refused = () => new KrakenError('SessionAuthentication', 'invalid username or password')
    if (account === undefined) {
      // Spend the same time as a real check so the answer does not tell which names exist.
      await verifyPassword(password, await dummyHash())
      throw refused()
    }
    if (lockout.isLocked(username)) throw new KrakenError('SessionAuthentication', 'account is locked; try again later')
    const ok = await verifyPassword(password, account.password_hash)
    if (!ok) {
      lockout.recordFailure(username)
      throw refused()
    }
    if (account.state !== 'Active') throw new KrakenError('SessionAuthentication', `account is ${String(account.state)}`)
    lockout.recordSuccess(username)
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
