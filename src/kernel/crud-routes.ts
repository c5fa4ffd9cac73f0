import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import {
  PARENT_KEY, collectionRoute, itemRoute, itemUrl, lineage,
  type Operation, type Resource, type RuleContext
} from './define-resource.ts'
import { KrakenError, conflict, invalid, notFound } from './errors.ts'
import { errorResponses, guardedErrors, NoContent } from './schemas.ts'
import { assertValid } from './validator.ts'
import { assertSessionLive } from './caller.ts'
import { ListBytes } from './list-bytes.ts'
import type { Registry } from './registry.ts'
import type { Item, Op, Store } from './store.ts'

type Params = Record<string, string>
const ALL_OPERATIONS: readonly Operation[] = ['list', 'create', 'get', 'update', 'delete']
const JSON_TYPE = 'application/json; charset=utf-8'
/** The `?full=` values that ask for full items [ours: the contract names only true]. */
const FULL = new Set(['true', '1'])

/** Registers the derived routes of every resource of the registry, then each resource's extras. */
export function registerCrudRoutes (app: FastifyInstance, registry: Registry, store: () => Store): void {
  for (const resource of registry.resources) {
    const ops = new Set(resource.spec.operations ?? ALL_OPERATIONS)
    const r = resource
    const parents = lineage(r).slice(0, -1)
    const parentParams = Object.fromEntries(parents.map(p => [p.paramName, Type.String()]))
    const CollectionParams = Type.Object(parentParams)
    const ItemParams = Type.Object({ ...parentParams, [r.paramName]: Type.String({ description: `the ${r.singular}'s ${r.idField}` }) })
    const base = { tags: [r.tag], security: [{ session: [] }] }
    const name = pascal(parents.map(p => p.singular).join('-') + '-' + r.plural)
    const one = pascal(parents.map(p => p.singular).join('-') + '-' + r.singular)
    const readRoles = r.access.read
    const writeRoles = r.access.write

    if (ops.has('list')) {
      // Serialized lists by the store's (immutable, per-change) collection array; see listItems.
      // One cache per route: the array says which state of the collection this is, not which
      // collection (every absent collection is the same empty array).
      const listCache = new WeakMap<readonly Item[], Map<string, { version: number, json: Buffer }>>()
      // A miss (any change of the collection or its live state) reuses each unchanged element's bytes.
      const elementBytes = { full: new ListBytes(`${r.singular}_list`), summary: new ListBytes(`${r.singular}_list`) }
      app.get(collectionRoute(r), {
        config: { roles: readRoles },
        schema: {
          ...base, operationId: `list${name}`, summary: `List ${r.label}s`,
          description: `Minimal items (${r.summary.join(', ')}); \`?full=true\` returns full items.`,
          params: CollectionParams,
          // [ours] unknown query parameters (a client's cache buster) are ignored, as web servers do;
          // only `full` is checked.
          querystring: Type.Object({ full: Type.Optional(Type.Enum(['true', 'false', '1', '0'], { type: 'string', description: 'full items instead of the minimal representation: true or 1 (false or 0: minimal)' })) }, { additionalProperties: true, description: 'other parameters (a cache buster) are ignored' }),
          response: { 200: r.schemas.List, ...errorResponses(400, ...guardedErrors) }
        }
      }, async function listItems (request: FastifyRequest, reply: FastifyReply) {
        const params = request.params as Params
        const parentId = resolveParents(store(), r, params)
        const full = FULL.has((request.query as { full?: string }).full ?? '')
        const session = request.session!
        const { visible, present, presentVersion } = r.spec
        const all = store().list(r.collection)
        // A list is the hot path of every monitoring client: its JSON is kept until the store's
        // array for the collection (replaced on every change) or the presented live state changes.
        const cacheable = visible === undefined && (present === undefined || presentVersion !== undefined)
        const version = presentVersion?.(request) ?? 0
        const key = `${parentId ?? ''}|${String(full)}`
        const hit = cacheable ? listCache.get(all)?.get(key) : undefined
        if (hit !== undefined && hit.version === version) return reply.type(JSON_TYPE).send(hit.json)

        const items = all.filter(item =>
          (parentId === undefined || item[PARENT_KEY] === parentId) && (visible === undefined || visible(session, item)))
        const show = (item: Item): Item => {
          const live = present === undefined ? item : present(request, item)
          return full ? live : pickSummary(live, r.summary)
        }
        const payload = (): Item => ({ [`${r.singular}_list`]: items.map(show) })
        if (!cacheable) return payload()
        const serialize = (value: Item): string => reply.serialize(value) as string
        // Kept as bytes: a 3 MB list is then neither re-encoded nor copied per request.
        const presentKey = r.spec.presentKey
        const keyOf = present === undefined ? () => undefined : presentKey === undefined ? undefined : (item: Item) => presentKey(request, item)
        const json = (full ? elementBytes.full : elementBytes.summary).build(items, show, serialize, keyOf) ??
          Buffer.from(serialize(payload()))
        let entries = listCache.get(all)
        if (entries === undefined) listCache.set(all, entries = new Map())
        entries.set(key, { version, json })
        return reply.type(JSON_TYPE).send(json)
      })
    }

    if (ops.has('create')) {
      app.post(collectionRoute(r), {
        config: { roles: writeRoles },
        schema: {
          ...base, operationId: `create${one}`, summary: `Create ${a(r.label)}`,
          params: CollectionParams,
          body: r.schemas.Create,
          response: { 201: r.schemas.Response, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
        }
      }, async function createItem (request: FastifyRequest, reply: FastifyReply) {
        const params = request.params as Params
        const s = store()
        // toStored may await: a write undone meanwhile must not stay the basis of this one.
        const basis = s.rollbacks()
        const parentId = resolveParents(s, r, params)
        const body = withoutReadOnly(r, request.body as Item)
        const id = r.serverAssignsId ? randomUUID() : String(body[r.idField])
        if (!r.serverAssignsId && s.get(r.collection, id) !== undefined) {
          throw conflict(`${r.idField} '${id}' is already used by another ${r.singular}`, [{ field: r.idField, message: 'is already used' }])
        }
        const item: Item = { ...body, ...(r.spec.initial?.() ?? {}), [r.idField]: id }
        assertValid(r.schemas.Item, item)
        const ctx = ruleContext(s, request, r, parentId)
        checkGeneric(ctx, registry, item, undefined)
        r.spec.validate?.(ctx, item, undefined)
        let stored = r.spec.toStored === undefined ? item : await r.spec.toStored(ctx, item, undefined)
        if (parentId !== undefined) stored = { ...stored, [PARENT_KEY]: parentId }
        assertSessionLive(request)
        await s.commit([{ op: 'put', collection: r.collection, id, item: stored }], basis)
        const ids = [...parentIds(r, params), id]
        return reply.code(201).header('location', itemUrl(r, ids)).send(presented(r, request, stored))
      })
    }

    if (ops.has('get')) {
      app.get(itemRoute(r), {
        config: { roles: readRoles },
        schema: {
          ...base, operationId: `get${one}`, summary: `Read ${a(r.label)}`,
          params: ItemParams,
          response: { 200: r.schemas.Response, ...errorResponses(...guardedErrors) }
        }
      }, async function getItem (request: FastifyRequest) {
        return presented(r, request, findItem(store(), r, request.params as Params, request))
      })
    }

    if (ops.has('update')) {
      app.put(itemRoute(r), {
        config: { roles: writeRoles },
        schema: {
          ...base, operationId: `update${one}`, summary: `Change ${a(r.label)}`,
          description: 'Merges the given fields over the stored item, then validates the whole result. Read-only fields are ignored.',
          params: ItemParams,
          body: r.schemas.Update,
          response: { 200: r.schemas.Response, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
        }
      }, async function updateItem (request: FastifyRequest) {
        const params = request.params as Params
        const s = store()
        const basis = s.rollbacks()
        const previous = findItem(s, r, params, request)
        const body = withoutReadOnly(r, request.body as Item)
        delete body[r.idField]
        const next: Item = { ...previous, ...body }
        delete next[PARENT_KEY]
        assertValid(r.schemas.Item, withoutInternal(r, next))
        const parentId = previous[PARENT_KEY] as string | undefined
        const ctx = ruleContext(s, request, r, parentId)
        checkGeneric(ctx, registry, next, previous)
        r.spec.validate?.(ctx, next, previous)
        let stored = r.spec.toStored === undefined ? next : await r.spec.toStored(ctx, next, previous)
        if (parentId !== undefined) stored = { ...stored, [PARENT_KEY]: parentId }
        // A GET-edit-PUT round trip that changes nothing is a 200 even while a running stream uses
        // the item (kraken-api.md section 3): only a real change is refused, and nothing is written.
        if (isDeepStrictEqual(stored, previous)) return presented(r, request, previous)
        r.spec.beforeChange?.(ctx, previous)
        const id = String(previous[r.idField])
        assertSessionLive(request)
        await s.commit([{ op: 'put', collection: r.collection, id, item: stored }], basis)
        return presented(r, request, stored)
      })
    }

    if (ops.has('delete')) {
      app.delete(itemRoute(r), {
        config: { roles: writeRoles },
        schema: {
          ...base, operationId: `delete${one}`, summary: `Delete ${a(r.label)}${registry.childrenOf(r).length > 0 ? ' and everything under it' : ''}`,
          params: ItemParams,
          response: { 204: NoContent, ...errorResponses(409, ...guardedErrors) }
        }
      }, async function deleteItem (request: FastifyRequest, reply: FastifyReply) {
        const s = store()
        const item = findItem(s, r, request.params as Params, request)
        const ctx = ruleContext(s, request, r, item[PARENT_KEY] as string | undefined)
        r.spec.beforeChange?.(ctx, item)
        checkNotReferenced(s, registry, r, item)
        r.spec.beforeDelete?.(ctx, item)
        assertSessionLive(request)
        await s.commit(deleteOps(s, registry, r, String(item[r.idField])))
        return reply.code(204).send()
      })
    }

    r.spec.routes?.(app, r)
  }
}

/** Deletes an item and, depth first, every item nested under it. */
export function deleteOps (s: Store, registry: Registry, r: Resource, id: string): Op[] {
  const ops: Op[] = []
  for (const child of registry.childrenOf(r)) {
    for (const item of s.lookup(child.collection, PARENT_KEY, id)) {
      ops.push(...deleteOps(s, registry, child, String(item[child.idField])))
    }
  }
  ops.push({ op: 'delete', collection: r.collection, id })
  return ops
}

function ruleContext (s: Store, request: FastifyRequest, resource: Resource, parentId: string | undefined): RuleContext {
  return { store: s, session: request.session!, request, resource, parentId }
}

/** The ids of the ancestors named in the path, top first. */
function parentIds (r: Resource, params: Params): string[] {
  return lineage(r).slice(0, -1).map(p => params[p.paramName] ?? '')
}

/** Checks every ancestor exists under its own parent; returns the direct parent's id. */
function resolveParents (s: Store, r: Resource, params: Params): string | undefined {
  let parentId: string | undefined
  for (const p of lineage(r).slice(0, -1)) {
    const id = params[p.paramName] ?? ''
    const item = s.get(p.collection, id)
    if (item === undefined || (parentId !== undefined && item[PARENT_KEY] !== parentId)) throw notFound(`${p.singular} '${id}'`)
    parentId = id
  }
  return parentId
}

/** The item the path names, or the one 404. */
export function findItem (s: Store, r: Resource, params: Params, request: FastifyRequest): Item {
  const parentId = resolveParents(s, r, params)
  const id = params[r.paramName] ?? ''
  const item = s.get(r.collection, id)
  if (item === undefined || (parentId !== undefined && item[PARENT_KEY] !== parentId)) throw notFound(`${r.singular} '${id}'`)
  if (r.spec.visible !== undefined && request.session !== undefined && !r.spec.visible(request.session, item)) {
    throw new KrakenError('SessionAuthorization', `your role may not read this ${r.singular}`)
  }
  return item
}

function presented (r: Resource, request: FastifyRequest, item: Item): Item {
  return r.spec.present === undefined ? item : r.spec.present(request, item)
}

function pickSummary (item: Item, fields: readonly string[]): Item {
  const out: Item = {}
  for (const f of fields) out[f] = item[f]
  return out
}

function withoutReadOnly (r: Resource, body: Item): Item {
  const out: Item = {}
  for (const [k, v] of Object.entries(body)) if (!r.readOnly.has(k)) out[k] = v
  return out
}

/** Internal fields (a password hash) are not part of the item schema's writable shape. */
function withoutInternal (r: Resource, next: Item): Item {
  const internal = r.spec.internal ?? []
  if (internal.length === 0) return next
  const out = { ...next }
  for (const f of internal) delete out[f]
  return out
}

/** The rules every resource shares: unique fields among siblings and existing references. */
function checkGeneric (ctx: RuleContext, registry: Registry, next: Item, previous: Item | undefined): void {
  const r = ctx.resource
  const id = next[r.idField]
  for (const field of r.spec.unique ?? []) {
    const value = next[field]
    if (value === undefined || value === null || value === '') continue
    if (previous !== undefined && previous[field] === value) continue
    const clash = ctx.store.lookup(r.collection, field, value).find(other => other[r.idField] !== id && other[PARENT_KEY] === ctx.parentId)
    if (clash !== undefined) {
      throw conflict(`${field} '${String(value)}' is already used by ${r.singular} ${String(clash[r.idField])}`, [{ field, message: 'must be unique' }])
    }
  }
  for (const [field, plural] of Object.entries(r.spec.references ?? {})) {
    const target = registry.top(plural)
    if (target === undefined) throw new Error(`${r.plural}.${field} references unknown resource ${plural}`)
    const values = Array.isArray(next[field]) ? next[field] as unknown[] : [next[field]]
    for (const value of values) {
      if (value === null || value === undefined) continue
      if (ctx.store.get(target.collection, String(value)) === undefined) {
        throw invalid(field, `names ${target.singular} '${String(value)}', which does not exist`)
      }
    }
  }
}

/** Refuses to delete an item that another item references, naming the referrers. */
function checkNotReferenced (s: Store, registry: Registry, target: Resource, item: Item): void {
  const id = item[target.idField]
  const users: string[] = []
  for (const r of registry.resources) {
    for (const [field, plural] of Object.entries(r.spec.references ?? {})) {
      if (plural !== target.plural) continue
      for (const other of s.lookup(r.collection, field, id)) {
        users.push(`${r.singular} '${String(other.name ?? other[r.idField])}' (${String(other[r.idField])})`)
      }
    }
  }
  if (users.length > 0) {
    throw conflict(`${target.singular} is in use by ${users.join(', ')}`, users.map(u => ({ field: target.idField, message: `used by ${u}` })))
  }
}

/** "a stream", "an input". */
function a (noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`
}

function pascal (name: string): string {
  return name.split(/[-_]/).filter(Boolean).map(w => w[0]!.toUpperCase() + w.slice(1)).join('')
}
