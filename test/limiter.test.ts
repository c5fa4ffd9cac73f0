import t from 'tap'
import { Limiter } from '../src/auth/limiter.ts'

/** Lets every pending promise callback run, so "nothing else started" is checked after the fact. */
const settle = () => new Promise<void>(resolve => setImmediate(resolve))

t.test('a limiter runs at most its limit at once, all tasks in order, failures included', async t => {
  const limiter = new Limiter(2)
  let active = 0
  let peak = 0
  const started: number[] = []
  // Each task runs until the test lets it finish: no sleeping on the real clock.
  const finish = new Map<number, () => void>()
  const task = (i: number) => limiter.run(async () => {
    started.push(i)
    active++
    peak = Math.max(peak, active)
    await new Promise<void>(resolve => finish.set(i, resolve))
    active--
    if (i === 3) throw new Error('task 3 fails')
    return i
  })
  const all = Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map(task))
  await settle()
  t.same(started, [0, 1], 'two start at once')
  finish.get(1)!()
  await settle()
  t.same(started, [0, 1, 2], 'a finished task frees its slot for the next in line, and only one')
  finish.get(0)!()
  await settle()
  t.same(started, [0, 1, 2, 3])
  finish.get(3)!()
  await settle()
  t.same(started, [0, 1, 2, 3, 4], 'a failure frees its slot too')
  for (const i of [2, 4, 5, 6]) {
    await settle()
    finish.get(i)!()
  }
  const results = await all
  t.equal(peak, 2, 'never more than two at once')
  t.same(started, [0, 1, 2, 3, 4, 5, 6], 'in the order they came')
  t.same(results.map(r => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'], 'a failure frees its slot')
  t.equal(await limiter.run(async () => 'after'), 'after', 'the limiter still works afterwards')
})

t.test('waiting lanes take turns: a long queue in one lane delays another lane by one turn, not by its length', async t => {
  const limiter = new Limiter(1)
  const order: string[] = []
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  // The slot is taken; then a flood queues in one lane and two other lanes queue one task each.
  const first = limiter.run(() => gate, 'flood')
  const tasks = [
    ...Array.from({ length: 5 }, (_, i) => limiter.run(async () => { order.push(`flood-${i}`) }, 'flood')),
    limiter.run(async () => { order.push('haiadmin') }, 'haiadmin'),
    limiter.run(async () => { order.push('operator-0') }, 'operator'),
    limiter.run(async () => { order.push('operator-1') }, 'operator')
  ]
  release()
  await Promise.all([first, ...tasks])
  t.same(order, ['flood-0', 'haiadmin', 'operator-0', 'flood-1', 'operator-1', 'flood-2', 'flood-3', 'flood-4'],
    'round robin between the lanes, arrival order within each')
})
