import t from 'tap'
import Fastify, { type FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { ListBytes } from '../src/kernel/list-bytes.ts'
import { listOf } from '../src/kernel/schemas.ts'
import type { Item } from '../src/kernel/store.ts'

// A list built from cached element bytes must be byte for byte what the route's serializer makes
// of the whole list (the wire must not change), through every kind of change.
const Thing = Type.Object({
  uuid: Type.String(),
  name: Type.String(),
  count: Type.Number(),
  note: Type.Optional(Type.String()),
  tags: Type.Array(Type.String()),
  parent: Type.Union([Type.String(), Type.Null()]),
  status: Type.String()
})

type Check = (reply: FastifyReply) => unknown

async function withReply (check: Check): Promise<unknown> {
  const app = Fastify()
  let result: unknown
  app.get('/things', { schema: { response: { 200: listOf('thing', Thing) } } }, async (_request, reply) => {
    result = check(reply)
    return { thing_list: [] }
  })
  const res = await app.inject({ method: 'GET', url: '/things' })
  await app.close()
  if (res.statusCode !== 200) throw new Error(res.body)
  return result
}

function thing (n: number, extra: Item = {}): Item {
  return { uuid: `u-${n}`, name: `thing "${n}" é ✓ \u2028`, count: n / 3, tags: [`t${n}`, 'x'], parent: n % 2 === 0 ? null : 'p', ...extra }
}

t.test('the assembled list equals the serialized whole list through changes of items and live state', async t => {
  const steps = await withReply(reply => {
    const serialize = (payload: Item): string => reply.serialize(payload) as string
    const cache = new ListBytes('thing_list')
    const live = new Map<string, string>()
    const shown = (item: Item): Item => ({ ...item, status: live.get(String(item.uuid)) ?? 'stopped' })
    const keyOf = (item: Item): unknown => live.get(String(item.uuid)) ?? 'stopped'
    let items = Array.from({ length: 50 }, (_, n) => thing(n, n === 7 ? { note: 'only some have it' } : {}))
    const results: Array<{ step: string, same: boolean, cached: number }> = []
    const step = (name: string, withKey: boolean): void => {
      const whole = Buffer.from(serialize({ thing_list: items.map(shown) }))
      const built = cache.build(items, shown, serialize, withKey ? keyOf : undefined)
      results.push({ step: name, same: built !== undefined && built.equals(whole), cached: 0 })
    }
    step('first build', true)
    step('nothing changed', true)
    live.set('u-3', 'running')
    step('live state of one item', true)
    items = items.map(item => item.uuid === 'u-4' ? { ...item, name: 'renamed ✓' } : item)
    step('an item replaced', true)
    items = [...items.slice(0, 10), thing(99, { note: 'new' }), ...items.slice(11)]
    step('an item deleted and one added', true)
    live.delete('u-3')
    step('live state back, compared by value', false)
    items = items.map(item => item.uuid === 'u-5' ? { ...item, tags: ['changed'] } : item)
    step('a nested value replaced, compared by value', false)
    items = []
    step('empty', true)
    return results
  }) as Array<{ step: string, same: boolean }>
  t.equal(steps.length, 8)
  for (const s of steps) t.ok(s.same, `${s.step}: the same bytes as the whole list serialized`)
})

t.test('an unchanged item is not serialized again; a changed key or item is', async t => {
  const counts = await withReply(reply => {
    let calls = 0
    const serialize = (payload: Item): string => {
      calls++
      return reply.serialize(payload) as string
    }
    const cache = new ListBytes('thing_list')
    let state = 'stopped'
    const items = [thing(1, { status: 'stopped' }), thing(2, { status: 'stopped' })]
    const shown = (item: Item): Item => item.uuid === 'u-1' ? { ...item, status: state } : item
    const keyOf = (item: Item): unknown => item.uuid === 'u-1' ? state : undefined
    const counted = (list: Item[]): number => {
      calls = 0
      cache.build(list, shown, serialize, keyOf)
      return calls
    }
    const first = counted(items)
    const again = counted(items)
    state = 'running'
    const oneKey = counted(items)
    const oneItem = counted([items[0]!, { ...items[1]! }])
    return { first, again, oneKey, oneItem }
  }) as Record<string, number>
  // One call frames the list (the empty list), then one per element serialized.
  t.same(counts, { first: 3, again: 1, oneKey: 2, oneItem: 2 })
})

t.test('a serializer whose output is not a plain list gives no bytes (the caller serializes the whole list)', async t => {
  const cache = new ListBytes('thing_list')
  t.equal(cache.build([thing(1)], item => item, () => '{"thing_list":{}}'), undefined, 'no [] in the empty list')
  t.equal(cache.build([thing(1)], item => item, payload => (payload.thing_list as Item[]).length === 0 ? '{"thing_list":[]}' : '{"other":1}'), undefined, 'an element outside the frame')
})
