// The ceiling of this stack: a bare Fastify 5 HTTPS server with the emulator's cookie check,
// answering GET list and GET item with the very bytes the emulator returned, and POST/PUT into
// an in-memory Map. No validation, no rules, no durability, no logging.
//
//   node --import tsx bench/bare-server.ts --port 0 --cert cert.pem --key key.pem --bodies bodies.json
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { JSON_TYPE, announce, installBareAuth, parseReferenceArgs, readBodies, stopOnSignals } from './bare-auth.ts'

const options = parseReferenceArgs(process.argv.slice(2))
const bodies = readBodies(options.bodies)
const list = Buffer.from(bodies.list)
const item = Buffer.from(bodies.item.body)
const template = bodies.full[0] ?? {}
const items = new Map<string, Record<string, unknown>>(bodies.full.map(s => [String(s.uuid), s]))

const app = Fastify({ https: { cert: options.cert, key: options.key, minVersion: 'TLSv1.2' }, logger: false, bodyLimit: 1024 * 1024 })
installBareAuth(app)

app.get('/apis/v2/streams', async (_request, reply) => reply.type(JSON_TYPE).send(list))

app.get<{ Params: { id: string } }>('/apis/v2/streams/stream-:id', async (request, reply) => {
  if (request.params.id === bodies.item.id) return reply.type(JSON_TYPE).send(item)
  const found = items.get(request.params.id)
  return found === undefined ? reply.code(404).send() : reply.type(JSON_TYPE).send(JSON.stringify(found))
})

app.post('/apis/v2/streams', async (request, reply) => {
  const uuid = randomUUID()
  const created = { ...template, ...(request.body as object), uuid, status: 'stopped', sub_status: '' }
  items.set(uuid, created)
  return reply.code(201).header('location', `/apis/v2/streams/stream-${uuid}`).type(JSON_TYPE).send(JSON.stringify(created))
})

app.put<{ Params: { id: string } }>('/apis/v2/streams/stream-:id', async (request, reply) => {
  const found = items.get(request.params.id)
  if (found === undefined) return reply.code(404).send()
  const updated = { ...found, ...(request.body as object) }
  items.set(request.params.id, updated)
  return reply.type(JSON_TYPE).send(JSON.stringify(updated))
})

await app.listen({ port: options.port, host: '127.0.0.1' })
announce(app)
stopOnSignals(app)
