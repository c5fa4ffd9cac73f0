/** What a set of JSON values look like, merged: their types, string and time formats, keys and elements. */
export interface Shape {
  types: Set<string>
  formats: Set<string>
  keys?: Map<string, Shape>
  items?: Shape
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const TIME_KEY = /time|date|created|expires|expiration|_at$|^at$|since/i

/** The format of a string, as the report names it; '' for the empty string (it fits any format). */
export function stringFormat (value: string): string {
  if (value === '') return ''
  if (UUID.test(value)) return 'UUID'
  if (/^[A-Za-z0-9]{40}$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value)) return '40-character token'
  if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(value)) return 'ISO time'
  if (/^-?\d+\.\d{2}$/.test(value)) return 'two-decimal string'
  if (/^-?\d+\.\d+$/.test(value)) return 'decimal string'
  if (/^-?\d+$/.test(value)) return 'integer string'
  if (/^[A-Za-z0-9_-]{16,}$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value)) return 'token'
  return 'text'
}

/** The format of a number under a time-like key (epoch seconds or ms); '' for other numbers. */
function numberFormat (value: number, key: string): string {
  if (!TIME_KEY.test(key) || !Number.isInteger(value)) return ''
  if (value >= 1e9 && value < 1e10) return 'epoch seconds'
  if (value >= 1e12 && value < 1e13) return 'epoch ms'
  return ''
}

function typeOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** The shape of one value; `key` is the name it is found under (for time formats). */
export function shapeOf (value: unknown, key = '', depth = 0): Shape {
  const shape: Shape = { types: new Set([typeOf(value)]), formats: new Set() }
  if (depth > 64) return shape
  if (typeof value === 'string') {
    const f = stringFormat(value)
    if (f !== '') shape.formats.add(f)
  } else if (typeof value === 'number') {
    const f = numberFormat(value, key)
    if (f !== '') shape.formats.add(f)
  } else if (Array.isArray(value)) {
    for (const v of value) shape.items = merge(shape.items, shapeOf(v, key, depth + 1))
  } else if (value !== null && typeof value === 'object') {
    shape.keys = new Map(Object.entries(value).map(([k, v]) => [k, shapeOf(v, k, depth + 1)]))
  }
  return shape
}

/** Two shapes as one (the elements of a list). */
export function merge (a: Shape | undefined, b: Shape): Shape {
  if (a === undefined) return b
  const out: Shape = { types: new Set([...a.types, ...b.types]), formats: new Set([...a.formats, ...b.formats]) }
  if (a.keys !== undefined || b.keys !== undefined) {
    out.keys = new Map(a.keys)
    for (const [k, s] of b.keys ?? []) out.keys.set(k, merge(out.keys.get(k), s))
  }
  if (a.items !== undefined || b.items !== undefined) out.items = b.items === undefined ? a.items : merge(a.items, b.items)
  return out
}

/** One way the device's answer and the emulator's differ in shape. */
export interface ShapeDifference {
  kind: 'keys' | 'type' | 'format'
  /** Where, as `$.license.max_encoders` (`[]` for the elements of a list). */
  field: string
  device: string
  emulator: string
}

const list = (set: Iterable<string>) => [...set].sort().join(' | ')

/** How two shapes differ: key sets, types, then string and time formats, at every depth. */
export function compareShapes (device: Shape, emulator: Shape, field = '$', out: ShapeDifference[] = []): ShapeDifference[] {
  if (list(device.types) !== list(emulator.types)) {
    out.push({ kind: 'type', field, device: list(device.types), emulator: list(emulator.types) })
    return out
  }
  if (device.formats.size > 0 && emulator.formats.size > 0 && list(device.formats) !== list(emulator.formats)) {
    out.push({ kind: 'format', field, device: list(device.formats), emulator: list(emulator.formats) })
  }
  if (device.keys !== undefined && emulator.keys !== undefined) {
    const onlyDevice = [...device.keys.keys()].filter(k => !emulator.keys!.has(k))
    const onlyEmulator = [...emulator.keys.keys()].filter(k => !device.keys!.has(k))
    if (onlyDevice.length > 0 || onlyEmulator.length > 0) {
      out.push({ kind: 'keys', field, device: onlyDevice.length === 0 ? '-' : `only here: ${onlyDevice.sort().join(', ')}`, emulator: onlyEmulator.length === 0 ? '-' : `only here: ${onlyEmulator.sort().join(', ')}` })
    }
    for (const [k, s] of device.keys) {
      const other = emulator.keys.get(k)
      if (other !== undefined) compareShapes(s, other, `${field}.${k}`, out)
    }
  }
  if (device.items !== undefined && emulator.items !== undefined) compareShapes(device.items, emulator.items, `${field}[]`, out)
  return out
}
