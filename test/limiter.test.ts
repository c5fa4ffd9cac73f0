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
