import t from 'tap'
import { openStore, type Db } from '../src/kernel/store.ts'

const db = (): Db => ({
  format: 'kraken-emulator/1',
  fixture: 'test',
  collections: {
    streams: [
      { uuid: 's1', name: 'one', outputs: ['o1', 'o2'], transcoder: 't1' },
      { uuid: 's2', name: 'two', outputs: ['o3'], transcoder: null }
    ]
  },
  singletons: {}
})

t.test('lookup finds items by a field value, and by an element of an array field', async t => {
  const store = await openStore({ seed: db, idField: () => 'uuid' })
  const ids = (field: string, value: unknown) => store.lookup('streams', field, value).map(s => s.uuid).sort()
  t.same(ids('name', 'one'), ['s1'])
  t.same(ids('outputs', 'o2'), ['s1'])
  t.same(ids('outputs', 'o3'), ['s2'])
  t.same(ids('transcoder', null), [], 'null never matches')
  t.same(ids('outputs', 'nope'), [])
  t.same(store.lookup('nothing', 'name', 'one'), [], 'an unknown collection has no items')
})

t.test('the index follows every put, replace, delete and whole-state replace', async t => {
  const store = await openStore({ seed: db, idField: () => 'uuid' })
  const ids = (field: string, value: unknown) => store.lookup('streams', field, value).map(s => s.uuid).sort()
  t.same(ids('outputs', 'o1'), ['s1'], 'index built')
  await store.commit([{ op: 'put', collection: 'streams', id: 's3', item: { uuid: 's3', name: 'three', outputs: ['o1'] } }])
  t.same(ids('outputs', 'o1'), ['s1', 's3'], 'an insert is indexed')
  await store.commit([{ op: 'put', collection: 'streams', id: 's1', item: { uuid: 's1', name: 'uno', outputs: ['o9'] } }])
  t.same(ids('outputs', 'o1'), ['s3'], 'a replace drops the old values')
  t.same(ids('outputs', 'o9'), ['s1'], 'and indexes the new ones')
  t.same(ids('name', 'one'), [])
  t.same(ids('name', 'uno'), ['s1'])
  await store.commit([{ op: 'delete', collection: 'streams', id: 's3' }])
  t.same(ids('outputs', 'o1'), [], 'a delete is unindexed')
  await store.replace(db())
  t.same(ids('name', 'one'), ['s1'], 'a whole-state replace rebuilds the index')
  t.same(ids('outputs', 'o9'), [])
})
