// Structural checks shared by loading (snapshot file, journal lines) and by the write path
// (commit, replace). They return a sentence instead of throwing so each caller can prefix it
// with its own context (a file name, an op index).
import { versionOf } from './db-format.ts'

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Describes the first way `value` fails to be a `Db`, or returns undefined when it is one. */
export function findDbProblem (value: unknown, idField: (collection: string) => string): string | undefined {
  if (!isRecord(value)) return 'the document is not a JSON object'
  // Any version: whether this release can read it is decided by the caller (see migrate-db.ts).
  if (versionOf(value.format) === undefined) return `"format" must be "kraken-emulator/<version>" (found ${JSON.stringify(value.format) ?? 'nothing'})`
  if (typeof value.fixture !== 'string') return '"fixture" must be a string'
  if (!isRecord(value.collections)) return '"collections" must be an object'
  if (!isRecord(value.singletons)) return '"singletons" must be an object'
  for (const [name, items] of Object.entries(value.collections)) {
    if (!Array.isArray(items)) return `collections.${name} must be an array`
    const field = idField(name)
    const seen = new Map<string, number>()
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i]
      if (!isRecord(item)) return `collections.${name}[${i}] must be an object`
      const id = item[field]
      if (typeof id !== 'string') return `collections.${name}[${i}] has no string "${field}"`
      const first = seen.get(id)
      if (first !== undefined) return `collections.${name}[${i}] duplicates ${field} ${JSON.stringify(id)} of collections.${name}[${first}]`
      seen.set(id, i)
    }
  }
  for (const [name, singleton] of Object.entries(value.singletons)) {
    if (!isRecord(singleton)) return `singletons.${name} must be an object`
  }
  return undefined
}

/** Describes the first invalid op, or returns undefined. A put must carry its id inside the item,
 *  otherwise the item would not survive a reload (loading requires the id field). */
export function findOpsProblem (ops: unknown, idField: (collection: string) => string): string | undefined {
  if (!Array.isArray(ops)) return 'ops must be an array'
  for (let i = 0; i < ops.length; i++) {
    const op: unknown = ops[i]
    const where = `op #${i}`
    if (!isRecord(op)) return `${where} is not an object`
    switch (op.op) {
      case 'put': {
        if (typeof op.collection !== 'string' || op.collection === '') return `${where}: "collection" must be a non-empty string`
        if (typeof op.id !== 'string') return `${where}: "id" must be a string`
        if (!isRecord(op.item)) return `${where}: "item" must be an object`
        const field = idField(op.collection)
        if (op.item[field] !== op.id) return `${where}: item.${field} must equal the op's id ${JSON.stringify(op.id)}`
        break
      }
      case 'delete':
        if (typeof op.collection !== 'string' || op.collection === '') return `${where}: "collection" must be a non-empty string`
        if (typeof op.id !== 'string') return `${where}: "id" must be a string`
        break
      case 'set':
        if (typeof op.singleton !== 'string' || op.singleton === '') return `${where}: "singleton" must be a non-empty string`
        if (!isRecord(op.value)) return `${where}: "value" must be an object`
        break
      default:
        return `${where}: unknown op ${JSON.stringify(op.op) ?? 'undefined'}`
    }
  }
  return undefined
}

