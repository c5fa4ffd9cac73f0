// The write-path floor: the obvious lowdb server. Every POST and PUT rewrites the whole JSON file
// (lowdb's JSONFile: temp file + rename, no fsync) before it answers, one write at a time so no
// request is acknowledged before its own rewrite. Reads scan the array as a naive server would.
//
//   node --import tsx bench/naive-lowdb-server.ts --port 0 --cert cert.pem --key key.pem --bodies bodies.json --data db.json
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { JSONFile } from 'lowdb/node'
import { Low } from 'lowdb'
import { JSON_TYPE, announce, installBareAuth, parseReferenceArgs, readBodies, stopOnSignals } from './bare-auth.ts'

type Stream = Record<string, unknown>

const options = parseReferenceArgs(process.argv.slice(2))
if (options.data === undefined) throw new Error('missing --data')
const bodies = readBodies(options.bodies)
const summary = Object.keys((JSON.parse(bodies.list) as { stream_list: Stream[] }).stream_list[0] ?? {})
const template = bodies.full[0] ?? {}

const db = new Low<{ streams: Stream[] }>(new JSONFile(options.data), { streams: [] })
db.data = { streams: bodies.full }
await db.write()

// One rewrite per write request: lowdb would merge concurrent writes into one otherwise.
let writing: Promise<void> = Promise.resolve()
function rewrite (): Promise<void> {
  writing = writing.then(() => db.write())
  return writing
}

const app = Fastify({ https: { cert: options.cert, key: options.key, minVersion: 'TLSv1.2' }, logger: false, bodyLimit: 1024 * 1024 })
installBareAuth(app)

app.get('/apis/v2/streams', async (_request, reply) => {
  const list = db.data.streams.map(s => Object.fromEntries(summary.map(k => [k, s[k]])))
  return reply.type(JSON_TYPE).send(JSON.stringify({ stream_list: list }))
})

app.get<{ Params: { id: string } }>('/apis/v2/streams/stream-:id', async (request, reply) => {
  const found = db.data.streams.find(s => s.uuid === request.params.id)
  return found === undefined ? reply.code(404).send() : reply.type(JSON_TYPE).send(JSON.stringify(found))
})

app.post('/apis/v2/streams', async (request, reply) => {
  const uuid = randomUUID()
  const created = { ...template, ...(request.body as object), uuid, status: 'stopped', sub_status: '' }
  db.data.streams.push(created)
  await rewrite()
  return reply.code(201).header('location', `/apis/v2/streams/stream-${uuid}`).type(JSON_TYPE).send(JSON.stringify(created))
})

app.put<{ Params: { id: string } }>('/apis/v2/streams/stream-:id', async (request, reply) => {
  const index = db.data.streams.findIndex(s => s.uuid === request.params.id)
  if (index === -1) return reply.code(404).send()
  const updated = { ...db.data.streams[index], ...(request.body as object) }
  db.data.streams[index] = updated
  await rewrite()
  return reply.type(JSON_TYPE).send(JSON.stringify(updated))
})

await app.listen({ port: options.port, host: '127.0.0.1' })
announce(app)
stopOnSignals(app)
