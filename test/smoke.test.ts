import t from 'tap'
t.test('a', async t => { t.equal(1 as number, 1); t.ok(true) })
t.test('b', async t => { t.equal(2, 2) })
