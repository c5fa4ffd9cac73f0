import type { FastifyRequest } from 'fastify'
import { unauthenticated } from './errors.ts'
import type { Role } from './roles.ts'

/**
 * Who sends a request, as the kernel sees it: a user with a role, whose session may end while the
 * request is in flight. The kernel authorises by the role and refuses late writes; how a caller is
 * authenticated (the cookie, the session store, expiry) is auth/'s business: its session guard
 * sets `request.session` (an auth/ `Session`, which is a Caller).
 */
export interface Caller {
  /** The session id. */
  id: string
  username: string
  role: Role
  /**
   * Set when a reset or a reboot ends every session. A request authenticated before that may
   * still be in flight (reading its body, hashing a password): it must not write afterwards, or
   * the reset would not restore the fixture. Writers check it with `assertSessionLive`.
   */
  revoked?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the session guard (src/auth/) on /apis/v2 routes. */
    session?: Caller
  }
}

/**
 * Refuses a write whose session was revoked by a reset or reboot while the request was in flight
 * (see Caller.revoked). Call it right before committing, with no await in between.
 */
export function assertSessionLive (request: FastifyRequest): void {
  if (request.session?.revoked === true) throw unauthenticated('the session ended (reset or reboot) while the request was in flight')
}
