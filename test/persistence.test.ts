// State survives restarts and crashes; a damaged data file stops the start (issue 3, acceptance 2-3).
// The emulator runs as the real CLI in a child process, over a real HTTPS port.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { request, type Agent } from 'undici'
import { buildApp } from '../src/app.ts'
import { resources } from '../src/resources/index.ts'
import type { Resource } from '../src/kernel/define-resource.ts'
import type { Item } from '../src/kernel/store.ts'
import { clientOf, json, runCli, startCliJson, tempDir, type Ready } from './helpers/cli.ts'
import { samples } from './helpers/samples.ts'

type Client = { url: string, agent: Agent }
const ADMIN = { username: 'haiadmin', password: 'krakenapi' }

async function connect (t: { teardown: (fn: () => unknown) => void }, ready: Ready, certs: string): Promise<{ client: Client, cookie: string }> {
  const client = clientOf(ready, await readFile(path.join(certs, 'cert.pem'), 'utf8'))
  t.teardown(() => client.agent.close())
  const res = await request(`${ready.url}/apis/v2/login`, {
    method: 'POST', dispatcher: client.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN)
  })
  await res.body.dump()
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
  if (res.statusCode !== 204 || cookie === undefined) throw new Error(`login failed: ${res.statusCode}`)
  return { client, cookie: `id=${cookie}` }
}

/** What a client reads back: every top-level collection in full, without the runtime's live fields. */
async function readAll (client: Client, cookie: string): Promise<Record<string, Item[]>> {
  const out: Record<string, Item[]> = {}
  for (const r of resources.filter(x => x.parent === undefined)) {
    const res = await json(client, 'GET', `/apis/v2/${r.plural}?full=true`, { cookie })
    if (res.status !== 200) throw new Error(`GET ${r.plural}: ${res.status}`)
    out[r.plural] = ((res.body as Record<string, Item[]>)[`${r.singular}_list`] ?? []).map(item => withoutLive(r, item))
  }
  return out
}

/** Read-only fields other than the id (a stream's status) belong to the runtime, not the data file. */
function withoutLive (r: Resource, item: Item): Item {
  const out = { ...item }
  for (const f of r.readOnly) if (f !== r.idField) delete out[f]
  return out
}

const standalone = resources.filter(r => r.parent === undefined && samples[r.collection]?.standalone === true && r.plural !== 'accounts')

t.test('writes survive a stop and a restart on the same data file', async t => {
  t.ok(standalone.length > 0, 'there are resources to write')
  const dir = await tempDir(t)
  const certs = path.join(dir, 'certs')
  const data = path.join(dir, 'kraken.json')
  const args = ['--data', data, '--certs', certs, '--transition-ms', '0', '--log-level', 'warn']
  const first = await startCliJson(t, args)
  const { client, cookie } = await connect(t, first.ready, certs)
  const made: Array<[Resource, string]> = []
  let n = 0
  for (const r of standalone) {
    for (let i = 0; i < 2; i++) {
      const body = await samples[r.collection]!.create(++n, () => Promise.reject(new Error('standalone')))
      const res = await json(client, 'POST', `/apis/v2/${r.plural}`, { cookie, body })
      t.equal(res.status, 201, `create a ${r.singular}`)
      made.push([r, String((res.body as Item)[r.idField])])
    }
  }
  const [changedR, changedId] = made[0]!
  t.equal((await json(client, 'PUT', `/apis/v2/${changedR.plural}/${changedId}`, { cookie, body: samples[changedR.collection]!.change(999) })).status, 200, 'an update')
  const [deletedR, deletedId] = made[1]!
  t.equal((await json(client, 'DELETE', `/apis/v2/${deletedR.plural}/${deletedId}`, { cookie })).status, 204, 'a delete')
  const account = await samples.accounts!.create(7, () => Promise.reject(new Error('standalone')))
  t.equal((await json(client, 'POST', '/apis/v2/accounts', { cookie, body: account })).status, 201, 'an account')
  const before = await readAll(client, cookie)

  const stopped = await first.stop('SIGTERM')
  t.equal(stopped.code, 0, 'a clean stop')
  // After a clean stop the data file itself is current: it is the file a user opens and reads.
  const file = JSON.parse(await readFile(data, 'utf8')) as { collections: Record<string, Item[]> }
  for (const [r, id] of made.slice(2)) t.ok(file.collections[r.collection]?.some(x => x[r.idField] === id), `${r.singular} ${id} is in ${path.basename(data)}`)
  t.notMatch(JSON.stringify(file), String(account.password), 'no plain password in the data file')

  const second = await startCliJson(t, args)
  t.equal(second.ready.fingerprint, first.ready.fingerprint, 'same certificate')
  const again = await connect(t, second.ready, certs)
  const old = await json(again.client, 'GET', '/apis/v2/session', { cookie })
  t.equal(old.status, 401, 'sessions do not survive a restart (a restart is a reboot)')
  const after = await readAll(again.client, again.cookie)
  t.same(after, before, 'everything reads back the same')
  t.notOk(after[deletedR.plural]?.some(x => x[deletedR.idField] === deletedId), 'the deleted item stays deleted')
  const newcomer = await runLogin(again.client, String(account.name), String(account.password))
  t.equal(newcomer, 204, 'the new account logs in with its password after the restart')
  t.equal((await second.stop()).code, 0)
})

async function runLogin (client: Client, username: string, password: string): Promise<number> {
  return (await json(client, 'POST', '/apis/v2/login', { body: { username, password } })).status
}

t.test('SIGKILL during a burst of concurrent writes loses no acknowledged write', async t => {
  const dir = await tempDir(t)
  const certs = path.join(dir, 'certs')
  const data = path.join(dir, 'kraken.json')
  const args = ['--data', data, '--certs', certs, '--transition-ms', '0', '--log-level', 'silent']
  const cli = await startCliJson(t, args)
  const { client, cookie } = await connect(t, cli.ready, certs)

  const created = new Map<string, [Resource, Item]>()
  const deleted = new Set<string>()
  const doubtful = new Set<string>()
  let acked = 0 // creates and deletes answered 2xx
  let failed = 0
  let n = 0
  let killed = false
  const KILL_AFTER = 150
  const one = async (): Promise<void> => {
    const r = standalone[n % standalone.length]!
    const body = await samples[r.collection]!.create(++n, () => Promise.reject(new Error('standalone')))
    const res = await json(client, 'POST', `/apis/v2/${r.plural}`, { cookie, body })
    if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`)
    const item = res.body as Item
    const id = String(item[r.idField])
    created.set(id, [r, item])
    acked++
    // Every third acknowledged create is deleted again, so deletes are in the burst too.
    if (acked % 3 === 0) {
      // Sent but maybe never answered: the item may then be there or not.
      doubtful.add(id)
      const del = await json(client, 'DELETE', `/apis/v2/${r.plural}/${id}`, { cookie })
      if (del.status !== 204) throw new Error(`delete answered ${del.status}`)
      deleted.add(id)
      acked++
    }
    if (acked >= KILL_AFTER && !killed) {
      killed = true
      cli.child.kill('SIGKILL')
    }
  }
  // 24 writers in parallel until the process dies under them.
  await Promise.all(Array.from({ length: 24 }, async () => {
    while (!killed) {
      try {
        await one()
      } catch (error) {
        if (!killed) throw error
        failed++
      }
    }
  }))
  const exit = await cli.exited
  t.equal(exit.signal, 'SIGKILL', 'the process was killed')
  t.ok(acked >= KILL_AFTER, `${acked} writes were acknowledged, ${failed} were cut`)

  const text = await readFile(data, 'utf8')
  t.doesNotThrow(() => JSON.parse(text), 'the data file is valid JSON')

  const second = await startCliJson(t, args)
  const again = await connect(t, second.ready, certs)
  const after = await readAll(again.client, again.cookie)
  const missing: string[] = []
  const resurrected: string[] = []
  const changed: string[] = []
  for (const [id, [r, item]] of created) {
    const found = after[r.plural]?.find(x => x[r.idField] === id)
    if (deleted.has(id)) {
      if (found !== undefined) resurrected.push(id)
    } else if (found === undefined) {
      if (doubtful.has(id)) continue
      missing.push(id)
    } else if (!isDeepStrictEqual(found, withoutLive(r, item))) {
      changed.push(id)
    }
  }
  t.same(missing, [], `every acknowledged create (${created.size - deleted.size}) survived the crash`)
  t.same(changed, [], 'and reads back exactly as acknowledged')
  t.same(resurrected, [], `every acknowledged delete (${deleted.size}) survived the crash`)
  await second.stop()
})

t.test('a damaged data file stops the start with one line naming it, and stays untouched', async t => {
  const dir = await tempDir(t)
  // A real data file to damage: written by the emulator itself, then closed.
  const good = path.join(dir, 'good.json')
  const app = await buildApp({ data: good, logLevel: 'silent' })
  await app.close()
  const valid = await readFile(good, 'utf8')
  const doc = JSON.parse(valid) as { collections: Record<string, Item[]> }
  const badItem = structuredClone(doc)
  const firstCollection = Object.keys(badItem.collections).find(c => c !== 'accounts' && (badItem.collections[c]?.length ?? 0) > 0) ?? 'accounts'
  badItem.collections[firstCollection]![0]!.name = 12345
  const unknownCollection = structuredClone(doc)
  unknownCollection.collections.gadgets = [{ uuid: 'x' }]
  // The rules the API enforces on writes hold for the file too: references and unique names.
  const withReference = resources.find(r => Object.keys(r.spec.references ?? {}).length > 0 && (doc.collections[r.collection]?.length ?? 0) > 0)!
  const dangling = structuredClone(doc)
  const [refField] = Object.keys(withReference.spec.references!)
  const referrer = dangling.collections[withReference.collection]![0]!
  referrer[refField!] = Array.isArray(referrer[refField!]) ? ['0e0e0e0e-0000-4000-8000-000000000000'] : '0e0e0e0e-0000-4000-8000-000000000000'
  const withUnique = resources.find(r => (r.spec.unique?.length ?? 0) > 0 && (doc.collections[r.collection]?.length ?? 0) > 1)!
  const duplicate = structuredClone(doc)
  const [uniqueField] = withUnique.spec.unique!
  const twins = duplicate.collections[withUnique.collection]!
  twins[1]![uniqueField!] = twins[0]![uniqueField!]

  const cases: Record<string, string> = {
    truncated: valid.slice(0, Math.floor(valid.length / 2)),
    'not JSON': 'this is not JSON\n',
    empty: '',
    'a JSON array': '[]\n',
    'JSON of the wrong shape': JSON.stringify({ hello: 'world' }),
    'collections of the wrong type': JSON.stringify({ ...doc, collections: [] }),
    'an item that breaks its schema': JSON.stringify(badItem, null, 2),
    'an unknown collection': JSON.stringify(unknownCollection, null, 2),
    'a reference to nothing': JSON.stringify(dangling, null, 2),
    'a duplicate unique field': JSON.stringify(duplicate, null, 2)
  }
  const entries = Object.entries(cases)
  const files = entries.map(([what]) => path.join(dir, `${what.replace(/\W+/g, '-')}`, 'kraken.json'))
  for (const [i, [, content]] of entries.entries()) {
    await mkdir(path.dirname(files[i]!), { recursive: true })
    await writeFile(files[i]!, content)
  }
  // Every case in process (fast); three of them through the CLI too (each is a full start).
  for (const [i, [what]] of entries.entries()) {
    const error = await buildApp({ data: files[i]!, logLevel: 'silent' }).then(async app => { await app.close(); return undefined }, (e: unknown) => e as Error)
    t.ok(error?.message.includes(files[i]!), `${what}: buildApp refuses it, naming the file (${error?.message ?? 'it started'})`)
  }
  const viaCli = new Set(['truncated', 'not JSON', 'an item that breaks its schema'])
  const runs = new Map(await Promise.all(entries.filter(([what]) => viaCli.has(what)).map(async ([what]) => {
    const file = files[entries.findIndex(([w]) => w === what)]!
    return [what, await runCli(['--port', '0', '--data', file, '--certs', path.join(dir, 'certs'), '--log-level', 'silent'])] as const
  })))
  t.equal(runs.size, viaCli.size)
  for (const [i, [what, content]] of entries.entries()) {
    const file = files[i]!
    t.equal(await readFile(file, 'utf8'), content, `${what}: the file is untouched, byte for byte`)
    t.same(await readdir(path.dirname(file)), ['kraken.json'], `${what}: nothing written beside it`)
    const run = runs.get(what)
    if (run === undefined) continue
    t.equal(run.code, 2, `${what}: status 2`)
    const lines = run.stderr.split('\n').filter(l => l !== '')
    t.equal(lines.length, 1, `${what}: one line: ${run.stderr.trim()}`)
    t.match(lines[0], /^kraken-emulator: /, `${what}: names the program`)
    t.ok(lines[0]?.includes(file), `${what}: names the file`)
    t.notMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`)
    t.equal(run.stdout, '', `${what}: never announced ready`)
  }
})
