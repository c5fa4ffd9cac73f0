// Crash safety (issue 7): SIGKILL the emulator while 50 clients write to a store of 10,000
// streams, start it again on the same data file, and prove that the file is valid and holds
// every write that was acknowledged with a 2xx, and nothing half-written.
//
// The emulator runs as a user runs it: the CLI in its own process, over real HTTPS.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Client } from 'undici'
import { checkDb } from '../src/check-db.ts'
import { Registry } from '../src/kernel/registry.ts'
import type { Db, Item } from '../src/kernel/store.ts'
import { resources } from '../src/resources/index.ts'
import { emulatorArgs, spawnServer, type ServerProcess } from '../bench/spawn-server.ts'
import { seedStore, streamBody, writeDataFile } from '../bench/seed-db.ts'
import { preparedCli } from './helpers/prepared.ts'

const STREAMS = 10_000
const CLIENTS = 50
/** Kill once this many writes were acknowledged (or after KILL_AFTER_MS, whichever is first). */
const ACKS_BEFORE_KILL = 600
const KILL_AFTER_MS = 15_000
const FREE_OUTPUTS = 2_000
/** This run's build when `npm test` made one, else the sources through tsx. */
const built = preparedCli()
const CLI = built === undefined ? { entry: 'src/cli.ts' } : { entry: built, loader: 'none' as const }

// Loading 10,000 streams twice, on a shared 2-core machine, takes a while.
t.setTimeout(240_000)

/** What the clients were told (acknowledged) and what they merely sent (maybe applied). */
interface Ledger {
  created: Map<string, { name: string, output: string }>
  /** stream -> description values acknowledged (in order) and the one in flight, if any */
  described: Map<string, { acked: string[], pending: string | undefined }>
  deleted: Set<string>
  deletePending: Set<string>
  /** names sent in POSTs that got no answer: they may exist after the restart, fully or not at all */
  createPending: Map<string, string>
  acks: number
  inFlight: number
  unexpected: string[]
}

interface Session { client: Client, cookie: string }

async function open (server: ServerProcess, ca: string): Promise<Client> {
  return new Client(server.ready.url, { connect: { ca, servername: 'localhost' }, pipelining: 0 })
}

async function request (client: Client, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, cookie: string | undefined, body?: unknown): Promise<{ status: number, text: string }> {
  const headers: Record<string, string> = {}
  if (cookie !== undefined) headers.cookie = cookie
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await client.request({ method, path: url, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: res.statusCode, text: await res.body.text() }
}

async function login (client: Client): Promise<string> {
  const res = await client.request({ method: 'POST', path: '/apis/v2/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' }) })
  await res.body.text()
  const id = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
  if (res.statusCode !== 204 || id === undefined) throw new Error(`login answered ${res.statusCode}`)
  return `id=${id}`
}

t.test('acknowledged writes survive SIGKILL under load; nothing half-written', async t => {
  const dir = t.testdir()
  const data = path.join(dir, 'kraken.json')
  const certs = path.join(dir, 'certs')
  const seeded = await seedStore({ streams: STREAMS, freeOutputs: FREE_OUTPUTS })
  await writeDataFile(data, seeded.db)
  const seededById = new Map(seeded.db.collections.streams!.map(s => [String(s.uuid), s]))

  const first = await spawnServer({ ...CLI, args: emulatorArgs(data, certs, ['--transition-ms', '0']), timeoutMs: 120_000 })
  t.teardown(() => first.kill())
  const ca = await readFile(path.join(certs, 'cert.pem'), 'utf8')

  // Five sessions shared by 50 connections: logging in is a deliberate scrypt, not the subject here.
  const sessions: Session[] = []
  for (let i = 0; i < CLIENTS; i++) {
    const client = await open(first, ca)
    sessions.push({ client, cookie: i < 5 ? await login(client) : sessions[i % 5]!.cookie })
  }

  const ledger: Ledger = { created: new Map(), described: new Map(), deleted: new Set(), deletePending: new Set(), createPending: new Map(), acks: 0, inFlight: 0, unexpected: [] }
  const free = [...seeded.freeOutputIds]
  let killed = false

  async function writer (session: Session, index: number): Promise<void> {
    const mine: string[] = []
    for (let step = 0; !killed; step++) {
      const action = step % 5 === 4 && mine.length > 0 ? 'delete' : step % 2 === 0 && free.length > 0 ? 'create' : 'update'
      ledger.inFlight++
      try {
        if (action === 'create') {
          const output = free.pop()!
          const name = `crash ${index}-${step}`
          ledger.createPending.set(name, output)
          const res = await request(session.client, 'POST', '/apis/v2/streams', session.cookie, streamBody(name, seeded, output))
          if (res.status !== 201) { ledger.unexpected.push(`POST ${res.status} ${res.text}`); continue }
          const uuid = String((JSON.parse(res.text) as Item).uuid)
          ledger.createPending.delete(name)
          ledger.created.set(uuid, { name, output })
          mine.push(uuid)
        } else if (action === 'update') {
          // Own streams, or a seeded one only this client touches.
          const target = mine.at(-1) ?? seeded.streamIds[index]!
          const description = `c${index} s${step}`
          const entry = ledger.described.get(target) ?? { acked: [], pending: undefined }
          ledger.described.set(target, entry)
          entry.pending = description
          const res = await request(session.client, 'PUT', `/apis/v2/streams/stream-${target}`, session.cookie, { description })
          if (res.status !== 200) { ledger.unexpected.push(`PUT ${res.status} ${res.text}`); continue }
          entry.acked.push(description)
          entry.pending = undefined
        } else {
          const target = mine.shift()!
          ledger.deletePending.add(target)
          const res = await request(session.client, 'DELETE', `/apis/v2/streams/stream-${target}`, session.cookie)
          if (res.status !== 204) { ledger.unexpected.push(`DELETE ${res.status} ${res.text}`); continue }
          ledger.deletePending.delete(target)
          ledger.deleted.add(target)
        }
        ledger.acks++
        // Kill in the same tick as an acknowledgement: a server that acknowledged before the
        // bytes reached the file system would lose exactly this write.
        if (ledger.acks === ACKS_BEFORE_KILL) killNow()
      } catch (error) {
        // After the kill the connection dies with the server: that write was never acknowledged.
        // Before it, a failed request is a finding.
        if (!killed) ledger.unexpected.push(`${action} failed before the kill: ${(error as Error).message}`)
        return
      } finally {
        ledger.inFlight--
      }
    }
  }

  let inFlightAtKill = 0
  function killNow (): void {
    if (killed) return
    killed = true
    inFlightAtKill = ledger.inFlight
    first.child.kill('SIGKILL')
  }
  const started = Date.now()
  const writers = sessions.map((s, i) => writer(s, i))
  while (!killed && Date.now() - started < KILL_AFTER_MS && first.child.exitCode === null) {
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  killNow()
  const how = await first.kill()
  await Promise.all(writers)
  for (const s of sessions) await s.client.destroy()

  t.equal(how.signal, 'SIGKILL', 'the server died of SIGKILL, not of something else')
  t.same(ledger.unexpected, [], 'before the kill every write was acknowledged as expected')
  t.ok(ledger.acks >= 200, `${ledger.acks} writes acknowledged before the kill (${ledger.created.size} creates, ${Date.now() - started} ms)`)
  t.ok(inFlightAtKill > 0, `${inFlightAtKill} writes were in flight at the kill`)

  // The data file as the kill left it is a complete document (the journal holds the rest).
  const leftText = await readFile(data, 'utf8')
  t.doesNotThrow(() => checkDb(JSON.parse(leftText) as Db, new Registry(resources)), 'the data file left by the kill is valid')

  // Restart on the same files: recovery replays the journal into a new snapshot.
  const second = await spawnServer({ ...CLI, args: emulatorArgs(data, certs, ['--transition-ms', '0']), timeoutMs: 120_000 })
  t.teardown(() => second.kill())
  const client = await open(second, ca)
  const cookie = await login(client)
  const list = await request(client, 'GET', '/apis/v2/streams?full=true', cookie)
  t.equal(list.status, 200, 'the restarted emulator lists the streams')
  await client.close()
  const stopped = await second.stop()
  t.equal(stopped.code, 0, 'the restarted emulator stops cleanly')

  // The data file alone now holds the recovered state: check it item by item.
  const db = JSON.parse(await readFile(data, 'utf8')) as Db
  t.doesNotThrow(() => checkDb(db, new Registry(resources)), 'the recovered data file matches every schema')
  const byId = new Map(db.collections.streams!.map(s => [String(s.uuid), s]))
  const apiIds = new Set((JSON.parse(list.text) as { stream_list: Item[] }).stream_list.map(s => String(s.uuid)))
  t.same([...byId.keys()].sort(), [...apiIds].sort(), 'the API and the data file agree on the streams')

  const missing = [...ledger.created.keys()].filter(id => !byId.has(id) && !ledger.deleted.has(id) && !ledger.deletePending.has(id))
  t.same(missing, [], `every acknowledged create is there (${ledger.created.size})`)
  const resurrected = [...ledger.deleted].filter(id => byId.has(id))
  t.same(resurrected, [], `every acknowledged delete stays deleted (${ledger.deleted.size})`)
  const lostUpdates: string[] = []
  for (const [id, { acked, pending }] of ledger.described) {
    const stream = byId.get(id)
    if (stream === undefined) continue
    // An update in flight may or may not have landed; before any acknowledgement the stream
    // still shows the description it was created or seeded with (empty).
    const allowed = [acked.at(-1) ?? '', ...(pending === undefined ? [] : [pending])]
    if (!allowed.includes(String(stream.description))) lostUpdates.push(`${id}: ${String(stream.description)} not in ${allowed.join(' | ')}`)
  }
  t.same(lostUpdates, [], `every stream shows its last acknowledged update or the one in flight (${ledger.described.size} streams)`)

  // Nothing half-written: every stream is a seeded one or exactly what a client sent.
  const sentNames = new Map([...ledger.created.values()].map(c => [c.name, c.output]))
  for (const [name, output] of ledger.createPending) sentNames.set(name, output)
  const strangers: string[] = []
  for (const [id, stream] of byId) {
    const seed = seededById.get(id)
    const { description: _d, ...rest } = stream
    if (seed !== undefined) {
      const { description: _sd, ...seedRest } = seed
      if (JSON.stringify(rest) !== JSON.stringify(seedRest)) strangers.push(`${id}: seeded stream changed beyond its description`)
      continue
    }
    const output = sentNames.get(String(stream.name))
    if (output === undefined || JSON.stringify(stream.outputs) !== JSON.stringify([output]) || stream.input !== seeded.inputId || stream.transcoder !== seeded.transcoderId) {
      strangers.push(`${id}: ${JSON.stringify(stream).slice(0, 200)}`)
    }
  }
  t.same(strangers, [], `no stream is half-written or unknown (${byId.size} streams checked)`)
  t.notOk(second.stderr().includes(cookie.slice(3)), 'the session id never reached the server\'s output')
})
