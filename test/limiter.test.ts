import t from 'tap'
import { Limiter } from '../src/auth/limiter.ts'

t.test('a limiter runs at most its limit at once, all tasks in order, failures included', async t => {
  const limiter = new Limiter(2)
  let active = 0
  let peak = 0
  const started: number[] = []
  const task = (i: number) => limiter.run(async () => {
    started.push(i)
    active++
    peak = Math.max(peak, active)
    await new Promise(resolve => setTimeout(resolve, 5))
    active--
    if (i === 3) throw new Error('task 3 fails')
    return i
  })
  const results = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map(task))
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
