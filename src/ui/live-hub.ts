import type { Item } from '../kernel/store.ts'
import type { Caller } from '../kernel/caller.ts'
import type { StoredEntry } from '../control/request-log.ts'
import type { SessionEndReason } from '../auth/sessions.ts'
import type { Services } from '../services.ts'
import { EventClient } from './event-client.ts'
import { JournalFilter, type JournalView } from './journal-view.ts'
import { WATCHED, deviceStats, deviceView, streamStats, viewOf, type Watched } from './live-view.ts'

/** Statistics are pushed once a second of real time (the figures are read on the device clock). */
export const TICK_MS = 1000
/** Journal entries a (re)connecting page gets with the state. */
export const JOURNAL_BACKLOG = 50
/**
 * New journal entries go out in batches, at most this often (ms) and this many at a time (the
 * newest; the others are counted as skipped): a page cannot show thousands of requests a second,
 * and one write per page per request would make the pages cost the API under load.
 */
export const JOURNAL_FLUSH_MS = 500
export const JOURNAL_BATCH = 25

/**
 * The live page's event streams of one device. Each client gets the whole state first, then
 * what changes: stream transitions as they happen (also each step of one clock move), objects
 * created, changed and deleted, journal entries it may read, statistics once a second, and, when
 * its session ends, an `end` event naming why before the stream closes.
 *
 * Nothing is watched while no page is open: the hub subscribes on the first client and
 * unsubscribes (and stops its timer) with the last, so an emulator without pages pays nothing.
 */
export class LiveHub {
  private readonly clients = new Set<EventClient>()
  private readonly journal: JournalFilter
  private unsubscribe: Array<() => void> = []
  private timer: NodeJS.Timeout | undefined
  /** The lists last seen, by identity (the store hands out a new list when a collection changes). */
  private lists = new Map<Watched, readonly Item[]>()
  private items = new Map<Watched, Map<string, Item>>()
  /** The status and sub_status last sent per stream, so a transition is sent once. */
  private states = new Map<string, string>()
  private checkQueued = false
  private pending: StoredEntry[] = []
  private skipped = 0
  private flushTimer: NodeJS.Timeout | undefined

  /**
   * `device`: the device this hub follows. `scope` runs a function in the context the hub was made
   * in (AsyncLocalStorage.snapshot()): its timers and the hooks it subscribes run there, so code
   * that reads "the device at hand" (a fleet's per-request device) reads this one.
   */
  constructor (private readonly device: Services, private readonly scope: <R>(fn: () => R) => R = fn => fn()) {
    this.journal = new JournalFilter(device.registry)
  }

  private services (): Services {
    return this.device
  }

  get size (): number {
    return this.clients.size
  }

  /** Opens a stream for a signed-in caller; its first event is the whole state. */
  connect (viewer: Caller): EventClient {
    if (this.clients.size === 0) this.start()
    const client = new EventClient(viewer, c => this.disconnect(c))
    this.clients.add(client)
    client.body.write(`retry: 2000\n\n`)
    client.send('state', JSON.stringify(this.state(viewer)))
    return client
  }

  /** Looks for created, changed and deleted objects once the current turn is done (writes come in bursts). */
  queueCheck (): void {
    if (this.checkQueued || this.clients.size === 0) return
    this.checkQueued = true
    setImmediate(() => {
      this.checkQueued = false
      this.scope(() => this.check())
    })
  }

  /** Ends every stream (the emulator closes). */
  close (reason: string): void {
    for (const client of [...this.clients]) client.end(reason)
  }

  private state (viewer: Caller): unknown {
    const s = this.services()
    const objects: Record<string, unknown[]> = {}
    for (const collection of WATCHED) objects[collection] = s.store.list(collection).map(item => viewOf(s, collection, item))
    const journal: JournalView[] = []
    for (const entry of s.requestLog.query({ limit: JOURNAL_BACKLOG * 4 })) {
      const view = this.journal.view({ ...entry, rawHeaders: entry.headers }, viewer)
      if (view !== undefined) journal.push(view)
    }
    return {
      viewer: { username: viewer.username, role: viewer.role },
      // The page offers device events when it may send them: on loopback without a token, or once
      // its user types the token in (the control routes check it; the page only asks for it).
      control: { token_required: s.control.token !== undefined, clock: s.deviceClock?.mode ?? null },
      now: s.clock.now(),
      device: deviceView(s),
      stats: { device: deviceStats(s), streams: streamStats(s) },
      objects,
      journal: journal.slice(-JOURNAL_BACKLOG),
      // The scenario playing, or the last one played and how it ended.
      scenario: s.scenarios.status() ?? null
    }
  }

  private start (): void {
    const s = this.services()
    this.lists = new Map(WATCHED.map(c => [c, s.store.list(c)]))
    this.items = new Map(WATCHED.map(c => [c, new Map(s.store.list(c).map(item => [String(item.uuid), item]))]))
    this.states = new Map(s.store.list('streams').map(item => [String(item.uuid), stateKey(s.runtime.state(String(item.uuid)))]))
    const onTransition = (change: { uuid: string, to: string, sub_status: string }): void => { this.scope(() => this.transition(change)) }
    s.onTransition.push(onTransition)
    this.unsubscribe = [
      () => {
        const at = s.onTransition.indexOf(onTransition)
        if (at !== -1) s.onTransition.splice(at, 1)
      },
      s.requestLog.watch(entry => { this.scope(() => this.journalEntry(entry)) }),
      s.sessions.watch((id, reason) => { this.scope(() => this.sessionEnded(id, reason)) }),
      // A scenario's progress: its start, each step, its end.
      s.scenarios.subscribe(status => { this.scope(() => this.broadcast('scenario', JSON.stringify(status))) })
    ]
    this.timer = setInterval(() => { this.scope(() => this.tick()) }, TICK_MS)
    this.timer.unref()
  }

  private stop (): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe()
    this.unsubscribe = []
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    this.pending = []
    this.skipped = 0
    this.lists.clear()
    this.items.clear()
    this.states.clear()
  }

  private disconnect (client: EventClient): void {
    this.clients.delete(client)
    if (this.clients.size === 0) this.stop()
  }

  private broadcast (event: string, data: string): void {
    for (const client of this.clients) client.send(event, data)
  }

  private tick (): void {
    this.check()
    const s = this.services()
    this.broadcast('stats', JSON.stringify({ now: s.clock.now(), device: deviceStats(s), streams: streamStats(s) }))
  }

  /** A stream changed status (the runtime tells each step, also each step of one clock move). */
  private transition (change: { uuid: string, to: string, sub_status: string }): void {
    const s = this.services()
    if (s.store.get('streams', change.uuid) === undefined) return
    const state = { status: change.to, sub_status: change.sub_status }
    const key = stateKey(state)
    if (this.states.get(change.uuid) === key) return
    this.states.set(change.uuid, key)
    this.broadcast('transition', JSON.stringify({ uuid: change.uuid, ...state, at: s.clock.now() }))
  }

  private journalEntry (entry: StoredEntry): void {
    this.pending.push(entry)
    if (this.pending.length > JOURNAL_BATCH) {
      this.pending.shift()
      this.skipped++
    }
    if (this.flushTimer !== undefined) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      this.scope(() => this.flushJournal())
    }, JOURNAL_FLUSH_MS)
    this.flushTimer.unref()
  }

  /** One `journal` event per page with the entries it may see; pages of one account and role share the work. */
  private flushJournal (): void {
    const entries = this.pending
    const skipped = this.skipped
    this.pending = []
    this.skipped = 0
    const batches = new Map<string, string | undefined>()
    for (const client of this.clients) {
      const key = `${client.viewer.role}\n${client.viewer.username}`
      if (!batches.has(key)) {
        const views = entries.flatMap(entry => this.journal.view(entry, client.viewer) ?? [])
        batches.set(key, views.length === 0 && skipped === 0 ? undefined : JSON.stringify({ entries: views, skipped }))
      }
      const batch = batches.get(key)
      if (batch !== undefined) client.send('journal', batch)
    }
  }

  private sessionEnded (id: string, reason: SessionEndReason): void {
    for (const client of [...this.clients]) if (client.viewer.id === id) client.end(reason)
  }

  /** Compares each watched collection with what was last sent; only a collection whose list changed is walked. */
  private check (): void {
    const s = this.services()
    for (const collection of WATCHED) {
      const list = s.store.list(collection)
      if (this.lists.get(collection) === list) continue
      this.lists.set(collection, list)
      const before = this.items.get(collection) ?? new Map<string, Item>()
      const after = new Map(list.map(item => [String(item.uuid), item]))
      this.items.set(collection, after)
      for (const [uuid, item] of after) {
        const old = before.get(uuid)
        if (old === item) continue
        if (collection === 'streams') this.states.set(uuid, stateKey(s.runtime.state(uuid)))
        this.broadcast(old === undefined ? 'created' : 'changed', JSON.stringify({ collection, item: viewOf(s, collection, item) }))
      }
      for (const uuid of before.keys()) {
        if (after.has(uuid)) continue
        if (collection === 'streams') this.states.delete(uuid)
        this.broadcast('deleted', JSON.stringify({ collection, uuid }))
      }
    }
  }
}

function stateKey (state: { status: string, sub_status: string }): string {
  return `${state.status}\n${state.sub_status}`
}
