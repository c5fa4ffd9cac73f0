import type { Item, Store } from '../kernel/store.ts'
import { conflict, invalid } from '../kernel/errors.ts'
import { passwordPolicyProblem } from '../auth/passwords.ts'
import type { Lockout } from '../auth/lockout.ts'

/** Device rules of accounts (kraken-api.md section 2, Accounts). */

export const ACCOUNTS = 'accounts'

/**
 * 1-32 characters, none of `/ \ [ ] : ; | = , + * ? < >`, no white space [docs]; control
 * characters are refused too, since the name is also a path segment and a log field [ours].
 */
export const ACCOUNT_NAME_PATTERN = /^[^/\\[\]:;|=,+*?<>\s\x00-\x1f\x7f]{1,32}$/
export const ACCOUNT_NAME_RULE = 'must not contain / \\ [ ] : ; | = , + * ? < >, spaces or control characters'

export function isActiveAdministrator (account: Item): boolean {
  return account.role === 'Administrator' && account.state === 'Active'
}

/** Refuses a change that would leave the device without an Active Administrator (409). */
export function assertNotLastAdministrator (store: Store, name: string, field: string, action: string): void {
  const others = store.list(ACCOUNTS).some(a => a.name !== name && isActiveAdministrator(a))
  if (!others) {
    throw conflict(`${name} is the last Active Administrator and cannot be ${action}`, [
      { field, message: 'the device must keep one Active Administrator' }
    ])
  }
}

/** The state a write really asks for. A GET shows `Locked` while the brute-force lockout holds an
 *  Active account; sending that back unchanged (GET-edit-PUT) is no request to lock it for good. */
export function requestedState (next: Item, previous: Item | undefined, lockout: Lockout): unknown {
  if (previous?.state === 'Active' && next.state === 'Locked' && lockout.isLocked(String(previous.name))) return 'Active'
  return next.state
}

/** The password policy [docs], unless `--password-policy off`. */
export function assertPasswordPolicy (field: string, password: string, enforced: boolean): void {
  if (!enforced) return
  const problem = passwordPolicyProblem(password)
  if (problem !== undefined) throw invalid(field, problem)
}

/** The last-Administrator rule for a changed account; `previous` undefined means a new one. */
export function assertKeepsAdministrator (store: Store, next: Item, previous: Item | undefined): void {
  if (previous === undefined || !isActiveAdministrator(previous) || isActiveAdministrator(next)) return
  const demoted = next.role !== 'Administrator'
  assertNotLastAdministrator(store, String(previous.name), demoted ? 'role' : 'state', demoted ? 'demoted' : `set ${String(next.state)}`)
}
