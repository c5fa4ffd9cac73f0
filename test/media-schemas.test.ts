import t from 'tap'
import type { Resource } from '../src/kernel/define-resource.ts'
import { resources } from '../src/resources/index.ts'
import { call } from './helpers/app.ts'
import { API, create, mediaApp } from './helpers/media.ts'

// The shape of the media resources: every field documented with its range and default, every
// key present on every item, summaries in lists, /apidoc showing all of it.

const media = resources.filter(r => r.plural !== 'accounts')

interface JsonSchema {
  type?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  items?: JsonSchema
  properties?: Record<string, JsonSchema>
  required?: string[]
  minimum?: number
  maximum?: number
  maxLength?: number
  maxItems?: number
  format?: string
  pattern?: string
  nullable?: boolean
}

/** Why a schema does not bound its values, or undefined when it does (OpenAPI or JSON Schema). */
function unbounded (s: JsonSchema): string | undefined {
  if (s.anyOf !== undefined) return s.anyOf.map(unbounded).find(p => p !== undefined)
  if (s.enum !== undefined || s.const !== undefined || s.type === 'boolean' || s.type === 'null' || s.nullable === true) return undefined
  switch (s.type) {
    case 'integer':
    case 'number':
      return s.minimum === undefined || s.maximum === undefined ? 'a number without minimum and maximum' : undefined
    case 'string':
      return s.maxLength === undefined && s.format === undefined && s.pattern === undefined ? 'a string without maxLength, format or pattern' : undefined
    case 'array':
      return s.items === undefined ? 'an array without items' : unbounded(s.items)
    case 'object':
      return Object.values(s.properties ?? {}).map(unbounded).find(p => p !== undefined)
    default:
      return `no type (${JSON.stringify(s)})`
  }
}

/** Every property (nested ones too) has a description, a range, and a default unless required. */
function undocumented (schema: JsonSchema, path = ''): string[] {
  const problems: string[] = []
  const required = new Set(schema.required ?? [])
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const where = `${path}${name}`
    if (typeof prop.description !== 'string' || prop.description.length < 5) problems.push(`${where}: no description`)
    if (!required.has(name) && !('default' in prop)) problems.push(`${where}: optional without a default`)
    const why = unbounded(prop)
    if (why !== undefined) problems.push(`${where}: ${why}`)
    if (prop.type === 'object') problems.push(...undocumented(prop, `${where}.`))
  }
  return problems
}

t.test('every field of every media schema has a description, a range and (if optional) a default', async t => {
  for (const r of media) t.same(undocumented(r.schemas.Item as JsonSchema), [], r.plural)
})

t.test('/apidoc/json documents every field of every media resource', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const res = await m.app.inject({ method: 'GET', url: '/apidoc/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> }, responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> }>> }
  for (const r of media) {
    const collection = r.parent === undefined ? `${API}/${r.plural}` : `${API}/${r.parent.plural}/${r.parent.singular}-{${r.parent.paramName}}/${r.plural}`
    const post = doc.paths[collection]?.post
    t.ok(post, `POST ${collection} is documented`)
    const body = post?.requestBody?.content['application/json']?.schema ?? {}
    const writable = Object.fromEntries(Object.entries(body.properties ?? {}).filter(([name]) => !r.readOnly.has(name)))
    t.same(undocumented({ ...body, properties: writable }), [], `${r.plural}: the create body`)
    const created = post?.responses['201']?.content?.['application/json']?.schema ?? {}
    t.same(Object.keys(created.properties ?? {}).sort(), Object.keys(r.schemas.Response.properties).sort(), `${r.plural}: the 201 response lists every returned field`)
  }
  const video = doc.paths[`${API}/transcoders`]?.post?.requestBody?.content['application/json']?.schema.properties?.video_bitrate
  t.match(video, { type: 'integer', minimum: 100, maximum: 20000, default: 2000, description: /kbps/ }, 'for example the video bitrate')
})

/** The smallest body each resource accepts, given a stream's dependencies. */
async function minimalItems (m: Awaited<ReturnType<typeof mediaApp>>): Promise<Map<Resource, { path: string, body: object }>> {
  const input = await create(m, 'inputs', { url: 'udp://239.1.1.1:5000' })
  const output = await create(m, 'outputs', { name: 'o', url: 'udp://239.1.1.2:5000' })
  const tc = await create(m, 'transcoders', { name: 't' })
  const md = await create(m, 'metadata', { name: 'm' })
  const bodies: Record<string, { path: string, body: object }> = {
    streams: { path: 'streams', body: { name: 's', input: input.uuid, transcoder: tc.uuid, outputs: [output.uuid] } },
    inputs: { path: 'inputs', body: { url: 'udp://239.1.1.3:5000' } },
    outputs: { path: 'outputs', body: { name: 'o2', url: 'udp://239.1.1.4:5000' } },
    transcoders: { path: 'transcoders', body: { name: 't2' } },
    metadata: { path: 'metadata', body: { name: 'm2' } },
    archive_locations: { path: 'archive_locations', body: { name: 'l', path: '/data/l' } },
    relays: { path: `metadata/metadata-${md.uuid}/relays`, body: { address: '10.0.0.1', port: 4242 } }
  }
  return new Map(media.map(r => [r, bodies[r.plural]!]))
}

t.test('every key is present on a minimal new item, in lists (summary) and in full lists', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  for (const [r, { path, body }] of await minimalItems(m)) {
    t.same(Object.keys(body).filter(k => !(k in r.schemas.Item.properties)), [], `${r.plural}: the test body is valid`)
    const item = await create(m, path, body as Record<string, unknown>)
    const expected = Object.keys(r.schemas.Response.properties).sort()
    t.same(Object.keys(item).sort(), expected, `${r.plural}: every key after a create`)
    t.same(Object.keys(m.app.kraken.store.get(r.collection, item.uuid) ?? {}).filter(k => k !== '_parent').sort(),
      Object.keys(r.schemas.Item.properties).sort(), `${r.plural}: every key stored (write-only ones too)`)
    const list = (await call(m.app, m.cookie, 'GET', `${API}/${path}`)).json() as Record<string, Array<Record<string, unknown>>>
    const mine = list[`${r.singular}_list`]?.find(x => x.uuid === item.uuid)
    t.same(Object.keys(mine ?? {}).sort(), [...r.summary].sort(), `${r.plural}: the list shows the summary fields`)
    const full = (await call(m.app, m.cookie, 'GET', `${API}/${path}?full=true`)).json() as Record<string, Array<Record<string, unknown>>>
    t.same(full[`${r.singular}_list`]?.find(x => x.uuid === item.uuid), item, `${r.plural}: ?full=true shows the full item`)
  }
})
