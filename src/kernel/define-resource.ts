import { Type, type TObject, type TSchema, type Static } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Role } from './roles.ts'
import type { Caller } from './caller.ts'
import type { Item, Store } from './store.ts'
import { listOf } from './schemas.ts'

/** The key under which a nested item remembers its parent's id in the store (never sent). */
export const PARENT_KEY = '_parent'

export interface RuleContext {
  store: Store
  session: Caller
  request: FastifyRequest
  resource: Resource
  /** The parent item's id for a nested resource. */
  parentId: string | undefined
}

export interface ResourceSpec<S extends TObject = TObject> {
  /** Singular noun: item paths are `/<plural>/<singular>-<id>`, lists are `<singular>_list`. */
  singular: string
  plural: string
  /** OpenAPI tag; defaults to the plural with a capital. */
  tag?: string
  /** The noun people use in sentences ("metadata source"); defaults to the singular. */
  label?: string
  description: string
  /** The whole stored item: every field, with ranges, defaults and descriptions. */
  schema: S
  /** The id field; `uuid` (assigned by the server) unless the resource names items itself. */
  idField?: string
  /** Fields the server owns: ignored when a body carries them (so GET-edit-PUT works). */
  readOnly?: readonly string[]
  /** Fields accepted on writes and never returned. */
  writeOnly?: readonly string[]
  /** Fields stored but neither accepted nor returned (e.g. a password hash). */
  internal?: readonly string[]
  /** Fields of the minimal representation in lists. */
  summary: readonly string[]
  /** Fields whose value must be unique among siblings. */
  unique?: readonly string[]
  /** Fields holding ids of other resources (by plural): they must exist, and block deleting them. */
  references?: Readonly<Record<string, string>>
  parent?: Resource
  access?: { read?: readonly Role[], write?: readonly Role[] }
  /** Server-owned fields of a new item. */
  initial?: () => Partial<Static<S>>
  /** Device rules: throw a KrakenError to refuse. `previous` is undefined on create. */
  validate?: (ctx: RuleContext, next: Item, previous: Item | undefined) => void
  /**
   * Refuses a change of an existing item: a DELETE before anything else, a PUT once the body is
   * validated and only when the stored item would differ (an unchanged PUT is a 200), so a
   * running stream answers 409 "stop it first" to every real change.
   */
  beforeChange?: (ctx: RuleContext, previous: Item) => void
  /** Turns a validated item into what is stored (hash a password, drop a write-only field). */
  toStored?: (ctx: RuleContext, next: Item, previous: Item | undefined) => Item | Promise<Item>
  /** Refuses a delete by throwing. */
  beforeDelete?: (ctx: RuleContext, item: Item) => void
  /** Overlays live state (a stream's runtime status) on every item the API returns. */
  present?: (request: FastifyRequest, item: Item) => Item
  /** Changes whenever what `present` adds changes; lists are cached until it (or the store) does. */
  presentVersion?: (request: FastifyRequest) => number
  /**
   * Changes (by `Object.is`) whenever what `present` adds to this item changes: a list then
   * reuses an unchanged item's serialized bytes without presenting it. Without it, a list
   * presents every item and compares the result with the one its bytes were made from.
   */
  presentKey?: (request: FastifyRequest, item: Item) => unknown
  /** Hides items from some sessions (a Viewer sees only its own account). */
  visible?: (session: Caller, item: Item) => boolean
  /** Extra routes (actions) that live with the resource. */
  routes?: (app: FastifyInstance, resource: Resource) => void
  /** The operations the kernel registers; all five by default. */
  operations?: readonly Operation[]
  /**
   * Realistic bodies shown by /apidoc ("Try it out" starts from them): each must succeed on the
   * default fixture (test/apidoc-examples.test.ts sends every one).
   */
  examples?: { create: Readonly<Record<string, unknown>>, update: Readonly<Record<string, unknown>> }
}

export type Operation = 'list' | 'create' | 'get' | 'update' | 'delete'

export interface Resource {
  spec: ResourceSpec
  singular: string
  plural: string
  tag: string
  label: string
  /** The store collection; nested resources are namespaced by their parent's. */
  collection: string
  idField: string
  serverAssignsId: boolean
  parent: Resource | undefined
  paramName: string
  readOnly: ReadonlySet<string>
  hidden: ReadonlySet<string>
  summary: readonly string[]
  access: { read: readonly Role[], write: readonly Role[] }
  schemas: {
    Item: TObject
    Response: TObject
    Summary: TObject
    List: TObject
    Create: TObject
    Update: TObject
  }
}

const ALL: readonly Role[] = ['Administrator', 'Operator', 'Viewer']
const WRITERS: readonly Role[] = ['Administrator', 'Operator']

/** Derives every schema and name of a resource once, from its one item schema. */
export function defineResource<S extends TObject> (spec: ResourceSpec<S>): Resource {
  const idField = spec.idField ?? 'uuid'
  const serverAssignsId = idField === 'uuid'
  const readOnly = new Set([...(spec.readOnly ?? []), ...(serverAssignsId ? [idField] : [])])
  const writeOnly = new Set(spec.writeOnly ?? [])
  const internal = new Set(spec.internal ?? [])
  const hidden = new Set([...writeOnly, ...internal])
  const props = spec.schema.properties as Record<string, TSchema>
  for (const name of [...readOnly, ...hidden, ...spec.summary, ...(spec.unique ?? []), ...Object.keys(spec.references ?? {})]) {
    if (!(name in props)) throw new Error(`${spec.plural}: ${name} is not a field of the schema`)
  }

  const pick = (keep: (name: string) => boolean, transform: (s: TSchema, name: string) => TSchema = s => s) => {
    const out: Record<string, TSchema> = {}
    for (const [name, schema] of Object.entries(props)) if (keep(name)) out[name] = transform(schema, name)
    return out
  }
  const required = new Set((spec.schema as { required?: string[] }).required ?? [])

  const responseProps = pick(n => !hidden.has(n))
  // Every key is always present in a response (field clients crash on a missing one), so the
  // document says so even for fields a body may leave out.
  const Response = Type.Object(responseProps, { additionalProperties: false, description: spec.description })
  ;(Response as { required?: string[] }).required = Object.keys(responseProps)
  const Summary = Type.Object(pick(n => spec.summary.includes(n)), { additionalProperties: false })
  // A list item is the summary by default and the full item with ?full=true: one schema serves both.
  // No defaults on the optional part: the serializer would write them into every summary.
  const ListItem = Type.Object(Object.fromEntries(Object.entries(responseProps).map(([n, s]) => [n, spec.summary.includes(n) ? s : Type.Optional(withoutDefault(s))])), { additionalProperties: false })

  // Bodies may carry read-only fields (ignored) but never unknown ones.
  const ignored = Type.Optional(Type.Unknown({ description: 'read-only: ignored when sent' }))
  const writable = (n: string) => !readOnly.has(n) && !internal.has(n)
  const createProps = pick(n => writable(n) || readOnly.has(n), (s, n) => readOnly.has(n) ? ignored : (required.has(n) ? s : Type.Optional(s)))
  const Create = Type.Object(createProps, { additionalProperties: false, ...(spec.examples !== undefined && { examples: [spec.examples.create] }) })
  // PUT merges over the stored item, so its body has no defaults to fill in.
  const updateProps = pick(n => writable(n) || readOnly.has(n), (s, n) => readOnly.has(n) ? ignored : Type.Optional(withoutDefault(s)))
  const Update = Type.Object(updateProps, { additionalProperties: false, ...(spec.examples !== undefined && { examples: [spec.examples.update] }) })

  return {
    spec: spec as unknown as ResourceSpec,
    singular: spec.singular,
    plural: spec.plural,
    tag: spec.tag ?? spec.plural[0]!.toUpperCase() + spec.plural.slice(1),
    label: spec.label ?? spec.singular,
    collection: spec.parent === undefined ? spec.plural : `${spec.parent.collection}.${spec.plural}`,
    idField,
    serverAssignsId,
    parent: spec.parent,
    paramName: `${camel(spec.singular)}Id`,
    readOnly,
    hidden,
    summary: spec.summary,
    access: { read: spec.access?.read ?? ALL, write: spec.access?.write ?? WRITERS },
    schemas: { Item: spec.schema, Response, Summary, List: listOf(spec.singular, ListItem), Create, Update }
  }
}

function withoutDefault (schema: TSchema): TSchema {
  if (!('default' in schema)) return schema
  const { default: _dropped, ...rest } = schema as TSchema & { default?: unknown }
  return rest as TSchema
}

function camel (name: string): string {
  return name.replace(/[-_](\w)/g, (_m, c: string) => c.toUpperCase())
}

/** The chain from the top-level ancestor down to `resource`. */
export function lineage (resource: Resource): Resource[] {
  const chain: Resource[] = []
  for (let r: Resource | undefined = resource; r !== undefined; r = r.parent) chain.unshift(r)
  return chain
}

export const API_BASE = '/apis/v2'

/** `/apis/v2/metadata/metadata-:metadataId/relays` */
export function collectionRoute (resource: Resource): string {
  const parent = resource.parent
  return `${parent === undefined ? API_BASE : itemRoute(parent)}/${resource.plural}`
}

/** `/apis/v2/metadata/metadata-:metadataId/relays/relay-:relayId` */
export function itemRoute (resource: Resource): string {
  return `${collectionRoute(resource)}/${resource.singular}-:${resource.paramName}`
}

/** The canonical URL of an item, given the ids from the top-level ancestor down. */
export function itemUrl (resource: Resource, ids: readonly string[]): string {
  return lineage(resource).map((r, i) => `/${r.plural}/${r.singular}-${encodeURIComponent(ids[i] ?? '')}`).reduce((a, b) => a + b, API_BASE)
}
