// The anchor: json-server 0.17, the JSON-file fake REST API integrators pick today (Express +
// lowdb, rewriting its whole file on every write), served through Node's https with the bench's
// certificate so TLS costs what it costs the others. In front of it, the same login answer and
// cookie check as the other references (a few lines of plain Node, not json-server's: it has
// none). It serves every stream as the emulator's `?full=true` presents it, under the emulator's
// paths, so GET list answers a plain array of full items (json-server's shape, larger than the
// emulator's summary list).
//
//   node bench/json-server-https.js --port 0 --cert cert.pem --key key.pem --bodies bodies.json --data db.json
//
// json-server is a dependency of bench/ alone (bench/package.json; `npm ci --prefix bench`), loaded
// from there by path: a node_modules/ beside the transpiled file would shadow the root's lowdb 7
// (json-server brings lowdb 1) for the naive server.
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import https from 'node:https'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { parseReferenceArgs, readBodies, sessionIdOf } from './bare-auth.ts'

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void
interface ExpressApp extends RequestListener { use: (handler: Handler | RequestListener) => void }
interface Router extends RequestListener { db: { _: { id: string } } }
interface JsonServer {
  create: () => ExpressApp
  router: (file: string) => Router
  defaults: (options: { logger: boolean, noCors: boolean }) => Handler[]
  rewriter: (routes: Record<string, string>) => Handler
}

const options = parseReferenceArgs(process.argv.slice(2))
if (options.data === undefined) throw new Error('missing --data')
const bodies = readBodies(options.bodies)
writeFileSync(options.data, JSON.stringify({ streams: bodies.full }, null, 2))

const BENCH_PACKAGE = path.join(process.cwd(), 'bench', 'package.json') // the bench starts servers in the repository root
const jsonServer = createRequire(BENCH_PACKAGE)('json-server') as JsonServer
const app = jsonServer.create()
const UNAUTHENTICATED = JSON.stringify({ error: { type: 'SessionAuthentication', message: 'a valid session is required', details: [] } })
const sessions = new Set<string>()

app.use(function login (req, res, next) {
  res.setHeader('server', 'nginx')
  res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains')
  if (req.url === '/apis/v2/login' && req.method === 'POST') {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const { username, password } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { username?: unknown, password?: unknown }
      if (username !== 'haiadmin' || password !== 'krakenapi') {
        res.writeHead(401, { 'content-type': 'application/json; charset=utf-8' }).end(UNAUTHENTICATED)
        return
      }
      const id = randomUUID()
      sessions.add(id)
      res.writeHead(204, { 'set-cookie': [`id=${id}; Path=/; HttpOnly; Secure; SameSite=Strict`] }).end()
    })
    return
  }
  const id = sessionIdOf(req.headers.cookie)
  if (id === undefined || !sessions.has(id)) {
    res.writeHead(401, { 'content-type': 'application/json; charset=utf-8' }).end(UNAUTHENTICATED)
    return
  }
  next()
})
for (const handler of jsonServer.defaults({ logger: false, noCors: true })) app.use(handler)
app.use(jsonServer.rewriter({ '/apis/v2/streams/stream-:id': '/streams/:id', '/apis/v2/streams': '/streams' }))
const router = jsonServer.router(options.data)
router.db._.id = 'uuid'
app.use(router)

const server = https.createServer({ cert: options.cert, key: options.key }, app)
server.listen(options.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(JSON.stringify({ url: `https://127.0.0.1:${port}`, port, pid: process.pid }) + '\n')
})
const stop = (): void => { server.close(() => process.exit(0)); server.closeAllConnections() }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
