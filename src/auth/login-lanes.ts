/** A login admitted to its lane: hash in `lane` (see Limiter), then `leave()` exactly once. */
export interface LaneTicket { lane: string, leave: () => void }

let instances = 0

/**
 * Admission of logins to the hasher, so a flood can only fill its own lane: against one account,
 * that account's; against names that do not exist, the one lane they share. A correct login to
 * another account is admitted to its own lane and, lanes taking turns at the hasher, waits about
 * one hash per busy lane. A full lane answers 429 at once, without hashing.
 *
 * `limit` (--login-queue) logins may be in progress (waiting for a hash or hashing) per name,
 * existing or not, and as many for all unknown names together [ours]. One name's bound is the
 * same whether the account exists or not, so filling it tells nothing.
 */
export class LoginLanes {
  private readonly perName = new Map<string, number>()
  private unknown = 0
  // The hashing limiter is shared by every emulator of the process: lanes are named per emulator.
  private readonly prefix = `logins-${++instances}:`

  constructor (private readonly limit: number) {}

  /** Admits a login, or answers undefined when its lane is full. */
  enter (username: string, exists: boolean): LaneTicket | undefined {
    const mine = this.perName.get(username) ?? 0
    if (mine >= this.limit) return undefined
    if (!exists && this.unknown >= this.limit) return undefined
    this.perName.set(username, mine + 1)
    if (!exists) this.unknown++
    let left = false
    return {
      lane: this.prefix + (exists ? `account:${username}` : 'unknown'),
      leave: () => {
        if (left) return
        left = true
        const count = (this.perName.get(username) ?? 1) - 1
        if (count === 0) this.perName.delete(username)
        else this.perName.set(username, count)
        if (!exists) this.unknown--
      }
    }
  }
}
