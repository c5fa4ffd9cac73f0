// The in-memory state behind every Store: one Map per collection (O(1) get, insertion order kept
// by the Map, and `set` on an existing key keeps its position, which is exactly "replace keeps the
// item's position"). Inputs are assumed valid (see find-db-problem.ts); this class only applies.
import type { Db, Item, Op } from './store-types.ts'

const EMPTY: readonly Item[] = Object.freeze([])

export class MemoryState {
  #format: string
  #fixture: string
  #collections = new Map<string, Map<string, Item>>()
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
  load (db: Db): void {
    this.#format = db.format
    this.#fixture = db.fixture
    this.#collections = new Map()
    this.#lists = new Map()
    this.#indexes = new Map()
    this.#singletons = new Map(Object.entries(db.singletons))
    for (const [name, items] of Object.entries(db.collections)) {
      const field = this.#idField(name)
      this.#collections.set(name, new Map(items.map(item => [item[field] as string, item])))
    }
  }

  apply (ops: readonly Op[]): void {
    for (const op of ops) {
      if (op.op === 'set') {
        this.#singletons.set(op.singleton, op.value)
        continue
      }
      let items = this.#collections.get(op.collection)
      const before = items?.get(op.id)
      if (op.op === 'delete') {
        if (items?.delete(op.id) === true) {
          this.#lists.delete(op.collection)
          this.#reindex(op.collection, op.id, before, undefined)
        }
        continue
      }
      if (items === undefined) {
        items = new Map()
        this.#collections.set(op.collection, items)
      }
      items.set(op.id, op.item)
      this.#lists.delete(op.collection)
      this.#reindex(op.collection, op.id, before, op.item)
    }
  }

  /** The current state as a Db that shares the (immutable) item objects: O(items) pointer copies,
   *  cheap enough to take synchronously as the consistent cut of a snapshot. */
  view (): Db {
    return {
      format: this.#format,
      fixture: this.#fixture,
      // fromEntries defines own properties, so a collection named "__proto__" stays data.
      collections: Object.fromEntries([...this.#collections.keys()].map(name => [name, [...this.list(name)]])),
      singletons: Object.fromEntries(this.#singletons)
    }
  }
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
