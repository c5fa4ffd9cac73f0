/**
 * Runs at most `limit` tasks at once; the others wait in order. Used around scrypt: each hash
 * takes 16 MiB and ~50 ms of a libuv thread, and a burst of 50 logins hashing four at a time held
 * both cores of a small machine (event-loop stalls of 400 ms) and left the allocator holding the
 * memory. Two at a time keeps the API responsive while logins queue.
 */
export class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly limit: number) {}

  async run<T> (task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>(resolve => this.waiting.push(resolve))
    else this.active++
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      // The slot passes straight to the next waiter, so `active` never exceeds the limit.
      if (next !== undefined) next()
      else this.active--
    }
  }
}
