/**
 * Runs at most `limit` tasks at once; the others wait. Used around scrypt: each hash takes 16 MiB
 * and ~50 ms of a libuv thread, and a burst of 50 logins hashing four at a time held both cores of
 * a small machine (event-loop stalls of 400 ms) and left the allocator holding the memory. Two at
 * a time keeps the API responsive while logins queue.
 *
 * Waiting tasks are grouped in lanes (login: one per account name, one for all unknown names) and
 * the lanes take turns (round robin), each in arrival order: a long queue in one lane (a login
 * flood) delays another lane's task by about one turn of each busy lane, not by the whole queue.
 */
export class Limiter {
  private active = 0
  /** Lanes with waiting tasks, in turn order: the first is served next, then goes to the back. */
  private readonly lanes = new Map<string, Array<() => void>>()

  constructor (private readonly limit: number) {}

  async run<T> (task: () => Promise<T>, lane = ''): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>(resolve => this.wait(lane, resolve))
    else this.active++
    try {
      return await task()
    } finally {
      this.next()
    }
  }

  private wait (lane: string, resolve: () => void): void {
    const queue = this.lanes.get(lane)
    if (queue === undefined) this.lanes.set(lane, [resolve])
    else queue.push(resolve)
  }

  /** Passes a finished task's slot straight to the next lane's oldest task, so `active` never exceeds the limit. */
  private next (): void {
    const first = this.lanes.entries().next()
    if (first.done === true) {
      this.active--
      return
    }
    const [lane, queue] = first.value
    const resolve = queue.shift()
    this.lanes.delete(lane)
    if (queue.length > 0) this.lanes.set(lane, queue)
    resolve?.()
  }
}
