// The in-memory state behind every Store: one Map per collection (O(1) get, insertion order kept
// by the Map, and `set` on an existing key keeps its position, which is exactly "replace keeps the
// item's position"). Inputs are assumed valid (see find-db-problem.ts); this class only applies.
import type { Db, Item, Op } from './store-types.ts'

const EMPTY: readonly Item[] = Object.freeze([])

/** What one change replaced, so it can be undone (see MemoryState.revert). */
export type Undo =
  // stamp: a deleted item's insertion stamp (its place in the order); created: the put made the collection
  | { kind: 'item', collection: string, id: string, before: Item | undefined, stamp?: number, created?: true }
  | { kind: 'singleton', name: string, before: Record<string, unknown> | undefined }
  | { kind: 'load', before: Db, order: ReadonlyMap<string, ReadonlyMap<string, number>> }

export class MemoryState {
  #format: string
  #fixture: string
  #collections = new Map<string, Map<string, Item>>()
  // Insertion stamps, per collection: an undone delete puts the item back in its place by them,
  // so that the list order keeps no trace of a write that never happened (no scan at delete time).
  #order = new Map<string, Map<string, number>>()
  #stamp = 0
  // GET list is the hot path: the array is built once per change, not once per call.
  #lists = new Map<string, readonly Item[]>()
  #singletons = new Map<string, Record<string, unknown>>()
  // Secondary indexes, built on first lookup and then kept up to date by apply(): the device rules
  // (unique names, references, "an output serves one stream") ask "which items have this value"
  // on every write, and a scan of 10,000 items per rule made writes O(store size).
  #indexes = new Map<string, Map<string, Map<unknown, Set<string>>>>()
  readonly #idField: (collection: string) => string

  constructor (db: Db, idField: (collection: string) => string) {
    this.#idField = idField
    this.#format = db.format
    this.#fixture = db.fixture
    this.load(db)
  }

  format (): string {
    return this.#format
  }

  fixture (): string {
    return this.#fixture
  }

  list (collection: string): readonly Item[] {
    const cached = this.#lists.get(collection)
    if (cached !== undefined) return cached
    const items = this.#collections.get(collection)
    if (items === undefined) return EMPTY
    // Frozen so a caller that forgets the readonly type cannot corrupt the cache.
    const list = Object.freeze([...items.values()])
    this.#lists.set(collection, list)
    return list
  }

  get (collection: string, id: string): Item | undefined {
    return this.#collections.get(collection)?.get(id)
  }

  singleton (name: string): Record<string, unknown> | undefined {
    return this.#singletons.get(name)
  }

  /** The items whose `field` is `value`, or (an array field) contains it; null never matches. */
  lookup (collection: string, field: string, value: unknown): Item[] {
    if (value === null || value === undefined) return []
    const ids = this.#index(collection, field).get(value)
    if (ids === undefined) return []
    const items = this.#collections.get(collection)
    const out: Item[] = []
    for (const id of ids) {
      const item = items?.get(id)
      if (item !== undefined) out.push(item)
    }
    return out
  }

  #index (collection: string, field: string): Map<unknown, Set<string>> {
    let byField = this.#indexes.get(collection)
    if (byField === undefined) this.#indexes.set(collection, byField = new Map())
    let index = byField.get(field)
    if (index === undefined) {
      byField.set(field, index = new Map())
      for (const [id, item] of this.#collections.get(collection) ?? []) indexItem(index, field, id, item, 1)
    }
    return index
  }

  #reindex (collection: string, id: string, before: Item | undefined, after: Item | undefined): void {
    const byField = this.#indexes.get(collection)
    if (byField === undefined) return
    for (const [field, index] of byField) {
      if (before !== undefined) indexItem(index, field, id, before, -1)
      if (after !== undefined) indexItem(index, field, id, after, 1)
    }
  }

  /** Swaps the whole state; items are kept as given (the caller hands over fresh objects). */
  load (db: Db, undo?: Undo[]): void {
    undo?.push({ kind: 'load', before: this.view(), order: this.#order })
    this.#format = db.format
    this.#fixture = db.fixture
    this.#collections = new Map()
    this.#order = new Map()
    this.#lists = new Map()
    this.#indexes = new Map()
    this.#singletons = new Map(Object.entries(db.singletons))
    for (const [name, items] of Object.entries(db.collections)) {
      const field = this.#idField(name)
      this.#collections.set(name, new Map(items.map(item => [item[field] as string, item])))
      this.#order.set(name, new Map(items.map(item => [item[field] as string, ++this.#stamp])))
    }
  }

  /** Applies `ops`; with `undo`, records in it what they replaced (see revert). */
  apply (ops: readonly Op[], undo?: Undo[]): void {
    for (const op of ops) {
      if (op.op === 'set') {
        undo?.push({ kind: 'singleton', name: op.singleton, before: this.#singletons.get(op.singleton) })
        this.#singletons.set(op.singleton, op.value)
        continue
      }
      let items = this.#collections.get(op.collection)
      const before = items?.get(op.id)
      if (op.op === 'delete') {
        if (items !== undefined && before !== undefined) {
          const order = this.#order.get(op.collection)
          undo?.push({ kind: 'item', collection: op.collection, id: op.id, before, stamp: order?.get(op.id) ?? 0 })
          items.delete(op.id)
          order?.delete(op.id)
          this.#lists.delete(op.collection)
          this.#reindex(op.collection, op.id, before, undefined)
        }
        continue
      }
      undo?.push({ kind: 'item', collection: op.collection, id: op.id, before, ...(items === undefined && { created: true }) })
      if (items === undefined) {
        items = new Map()
        this.#collections.set(op.collection, items)
      }
      if (before === undefined) {
        let order = this.#order.get(op.collection)
        if (order === undefined) this.#order.set(op.collection, order = new Map())
        order.set(op.id, ++this.#stamp)
      }
      items.set(op.id, op.item)
      this.#lists.delete(op.collection)
      this.#reindex(op.collection, op.id, before, op.item)
    }
  }

  /** Undoes changes recorded by apply/load, newest first, back to the state before the first. */
  revert (undo: readonly Undo[]): void {
    const reorder = new Set<string>()
    for (let i = undo.length - 1; i >= 0; i--) {
      const change = undo[i] as Undo
      if (change.kind === 'load') {
        this.load(change.before)
        this.#order = copyOrder(change.order)
        reorder.clear()
      } else if (change.kind === 'singleton') {
        if (change.before === undefined) this.#singletons.delete(change.name)
        else this.#singletons.set(change.name, change.before)
      } else {
        const items = this.#collections.get(change.collection) ?? new Map<string, Item>()
        this.#collections.set(change.collection, items)
        const order = this.#order.get(change.collection) ?? new Map<string, number>()
        this.#order.set(change.collection, order)
        const after = items.get(change.id)
        if (change.created === true) {
          this.#collections.delete(change.collection)
          this.#order.delete(change.collection)
        } else if (change.before === undefined) {
          items.delete(change.id)
          order.delete(change.id)
        } else {
          items.set(change.id, change.before)
          if (change.stamp !== undefined) {
            order.set(change.id, change.stamp)
            reorder.add(change.collection)
          }
        }
        this.#lists.delete(change.collection)
        this.#reindex(change.collection, change.id, after, change.before)
      }
    }
    // Undone deletes were appended: put every item back in its place (rare, so O(n log n) is fine).
    for (const collection of reorder) {
      const items = this.#collections.get(collection)
      const order = this.#order.get(collection)
      if (items === undefined || order === undefined) continue
      this.#collections.set(collection, new Map([...items].sort(([a], [b]) => (order.get(a) ?? 0) - (order.get(b) ?? 0))))
    }
  }

  /** The current state as a Db that shares the (immutable) item objects: O(items) pointer copies,
   *  cheap enough to take synchronously as the consistent cut of a snapshot. With `undo`, the
   *  state as it was before those changes (memory is not touched): a snapshot must not contain a
   *  commit whose journal write may still fail. */
  view (undo?: readonly Undo[]): Db {
    if (undo !== undefined && undo.length > 0) {
      const copy = new MemoryState(this.view(), this.#idField)
      copy.#order = copyOrder(this.#order)
      copy.#stamp = this.#stamp
      copy.revert(undo)
      return copy.view()
    }
    return {
      format: this.#format,
      fixture: this.#fixture,
      // fromEntries defines own properties, so a collection named "__proto__" stays data.
      collections: Object.fromEntries([...this.#collections.keys()].map(name => [name, [...this.list(name)]])),
      singletons: Object.fromEntries(this.#singletons)
    }
  }
}

function copyOrder (order: ReadonlyMap<string, ReadonlyMap<string, number>>): Map<string, Map<string, number>> {
  return new Map([...order].map(([name, stamps]) => [name, new Map(stamps)]))
}

/** Adds (`sign` 1) or removes (-1) an item's values of `field` in an index. */
function indexItem (index: Map<unknown, Set<string>>, field: string, id: string, item: Item, sign: 1 | -1): void {
  const value = item[field]
  for (const v of Array.isArray(value) ? value : [value]) {
    if (v === null || v === undefined || (typeof v === 'object')) continue
    let ids = index.get(v)
    if (sign === 1) {
      if (ids === undefined) index.set(v, ids = new Set())
      ids.add(id)
    } else if (ids !== undefined) {
      ids.delete(id)
      if (ids.size === 0) index.delete(v)
    }
  }
}
