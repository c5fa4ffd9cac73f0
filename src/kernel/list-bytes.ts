import type { Item } from './store.ts'

type Serialize = (payload: Record<string, unknown>) => string

/** `key`: the item's presentation key when one is given; `shown` otherwise. */
interface Element { key: unknown, shown: Item | undefined, bytes: Buffer }

/**
 * Builds a list response's JSON from each element's cached bytes. Items in the store are
 * immutable (a change replaces the object), so an element's bytes stay valid while its stored
 * object and what is shown of it (the live overlay, the summary) are unchanged: at 10,000 streams
 * a change then costs one element's serialization instead of the whole 3 MB list's, and no
 * megabytes of intermediate strings.
 *
 * The bytes are the route serializer's own: an element is serialized as a one-element list and
 * cut out of it, and the serializer writes an array's elements independently, joined by commas,
 * so the assembled list is byte for byte what serializing the whole list would give.
 */
export class ListBytes {
  private readonly elements = new WeakMap<Item, Element>()

  /** `listKey` is the list's only property (`stream_list`). */
  constructor (private readonly listKey: string) {}

  /**
   * The list of `shown(item)` for every stored item, as bytes; undefined when the serializer's
   * output does not have the expected shape (the caller then serializes the whole list).
   * `keyOf(item)` changes whenever `shown(item)` of the same stored item does; without it each
   * item is shown and compared with what its cached bytes were made from.
   */
  build (stored: readonly Item[], shown: (item: Item) => Item, serialize: Serialize, keyOf?: (item: Item) => unknown): Buffer | undefined {
    const empty = serialize({ [this.listKey]: [] })
    const at = empty.lastIndexOf('[]')
    if (at < 0) return undefined
    const open = empty.slice(0, at + 1)
    const close = empty.slice(at + 1)
    const openBytes = Buffer.from(open)
    const closeBytes = Buffer.from(close)
    const parts: Buffer[] = new Array<Buffer>(stored.length)
    let length = openBytes.length + closeBytes.length + Math.max(0, stored.length - 1)
    for (let i = 0; i < stored.length; i++) {
      const item = stored[i]!
      let element = this.elements.get(item)
      const key = keyOf?.(item)
      const show = keyOf === undefined ? shown(item) : undefined
      const fresh = element !== undefined &&
        (show === undefined ? Object.is(element.key, key) : element.shown !== undefined && sameShallow(element.shown, show))
      if (element === undefined || !fresh) {
        const value = show ?? shown(item)
        const one = serialize({ [this.listKey]: [value] })
        if (!one.startsWith(open) || !one.endsWith(close) || one.length <= open.length + close.length) return undefined
        element = { key, shown: show, bytes: Buffer.from(one.slice(open.length, one.length - close.length)) }
        this.elements.set(item, element)
      }
      parts[i] = element.bytes
      length += element.bytes.length
    }
    const out = Buffer.allocUnsafe(length)
    let offset = openBytes.copy(out, 0)
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) out[offset++] = 0x2c // ','
      offset += parts[i]!.copy(out, offset)
    }
    closeBytes.copy(out, offset)
    return out
  }
}

/**
 * The same own keys with identical values. Nested objects and arrays come from immutable stored
 * items, so the same reference means the same content.
 */
function sameShallow (a: Item, b: Item): boolean {
  let count = 0
  for (const key in b) {
    if (!Object.hasOwn(a, key) || !Object.is(a[key], b[key])) return false
    count++
  }
  for (const key in a) if (Object.hasOwn(a, key)) count--
  return count === 0
}
