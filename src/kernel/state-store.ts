// The Store implementation shared by both modes: reads come from MemoryState; writes are
// validated, applied to memory synchronously, then handed to the durability layer (if any).
import { findDbProblem, findOpsProblem } from './find-db-problem.ts'
import type { MemoryState, Undo } from './memory-state.ts'
import { StoreUnavailableError } from './store-unavailable-error.ts'
import type { Db, Item, Op, Store } from './store-types.ts'

/** What the durable mode adds. Each method must call `apply` synchronously (after any check
 *  that can fail, so a rejected write leaves memory untouched) and resolve once durable; if it
 *  cannot be made durable, undo it in memory (with what `apply` recorded) before rejecting. */
export interface Durability {
  readonly rollbacks: number
  commit (ops: readonly Op[], apply: (undo: Undo[]) => void): Promise<void>
  replace (apply: (undo: Undo[]) => void): Promise<void>
  close (): Promise<void>
}

export class StateStore implements Store {
  readonly file: string | undefined
  readonly #state: MemoryState
  readonly #idField: (collection: string) => string
  readonly #durability: Durability | undefined
  #closing: Promise<void> | undefined

  constructor (state: MemoryState, idField: (collection: string) => string, file: string | undefined, durability: Durability | undefined) {
    this.#state = state
    this.#idField = idField
    this.file = file
    this.#durability = durability
  }

  fixture (): string {
    return this.#state.fixture()
  }

  list (collection: string): readonly Item[] {
    return this.#state.list(collection)
  }

  get (collection: string, id: string): Item | undefined {
    return this.#state.get(collection, id)
  }

  lookup (collection: string, field: string, value: unknown): Item[] {
    return this.#state.lookup(collection, field, value)
  }

  singleton (name: string): Record<string, unknown> | undefined {
    return this.#state.singleton(name)
  }

  rollbacks (): number {
    return this.#durability?.rollbacks ?? 0
  }

  commit (ops: Op[], basis?: number): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new Error('store is closed'))
    const problem = findOpsProblem(ops, this.#idField)
    if (problem !== undefined) return Promise.reject(new Error(`invalid commit: ${problem}`))
    if (basis !== undefined && basis !== this.rollbacks()) {
      return Promise.reject(new StoreUnavailableError('a failed write was undone while this change was being checked; it was not made'))
    }
    if (ops.length === 0) return Promise.resolve()
    if (this.#durability === undefined) {
      this.#state.apply(ops)
      return Promise.resolve()
    }
    return this.#durability.commit(ops, undo => { this.#state.apply(ops, undo) })
  }

  replace (db: Db): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new Error('store is closed'))
    // A db of another format would be written as it is, and the next start would migrate it or refuse it.
    const problem = findDbProblem(db, this.#idField) ??
      (db.format === this.#state.format() ? undefined : `"format" is ${JSON.stringify(db.format)}, the store's is "${this.#state.format()}"`)
    if (problem !== undefined) return Promise.reject(new Error(`invalid replacement db: ${problem}`))
    if (this.#durability === undefined) {
      this.#state.load(db)
      return Promise.resolve()
    }
    return this.#durability.replace(undo => { this.#state.load(db, undo) })
  }

  snapshot (): Db {
    return structuredClone(this.#state.view())
  }

  close (): Promise<void> {
    this.#closing ??= this.#durability?.close() ?? Promise.resolve()
    return this.#closing
  }
}
