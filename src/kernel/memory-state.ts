// The in-memory state behind every Store: one Map per collection (O(1) get, insertion order kept
// by the Map, and `set` on an existing key keeps its position, which is exactly "replace keeps the
// item's position"). Inputs are assumed valid (see find-db-problem.ts); this class only applies.
import type { Db, Item, Op } from './store.ts'

const EMPTY: readonly Item[] = Object.freeze([])

export class MemoryState {
  #fixture: string
  #collections = new Map<string, Map<string, Item>>()
  // GET list is the hot path: the array is built once per change, not once per call.
  #lists = new Map<string, readonly Item[]>()
  #singletons = new Map<string, Record<string, unknown>>()
  readonly #idField: (collection: string) => string

  constructor (db: Db, idField: (collection: string) => string) {
    this.#idField = idField
    this.#fixture = db.fixture
    this.load(db)
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

  /** Swaps the whole state; items are kept as given (the caller hands over fresh objects). */
  load (db: Db): void {
    this.#fixture = db.fixture
    this.#collections = new Map()
    this.#lists = new Map()
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
      if (op.op === 'delete') {
        if (items?.delete(op.id) === true) this.#lists.delete(op.collection)
        continue
      }
      if (items === undefined) {
        items = new Map()
        this.#collections.set(op.collection, items)
      }
      items.set(op.id, op.item)
      this.#lists.delete(op.collection)
    }
  }

  /** The current state as a Db that shares the (immutable) item objects: O(items) pointer copies,
   *  cheap enough to take synchronously as the consistent cut of a snapshot. */
  view (): Db {
    return {
      format: 'kraken-emulator/1',
      fixture: this.#fixture,
      // fromEntries defines own properties, so a collection named "__proto__" stays data.
      collections: Object.fromEntries([...this.#collections.keys()].map(name => [name, [...this.list(name)]])),
      singletons: Object.fromEntries(this.#singletons)
    }
  }
}
