// What the two reference servers share with the emulator's hot path, and nothing more: the same
// login answer (so a client cannot tell) and the same cookie check (parse Cookie, look the id up
// in a Map). Password hashing is deliberately absent: the references measure the stack's ceiling.
import { randomUUID, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

const PASSWORDS = new Map([['haiadmin', 'krakenapi'], ['operator', 'krakenapi'], ['user', 'krakenapi']])
const UNAUTHENTICATED = JSON.stringify({ error: { type: 'SessionAuthentication', message: 'a valid session is required', details: [] } })
export const JSON_TYPE = 'application/json; charset=utf-8'

export interface ReferenceOptions { port: number, cert: string, key: string, bodies: string, data: string | undefined }

/** `--port 0 --cert <file> --key <file> --bodies <file> [--data <file>]` */
export function parseReferenceArgs (argv: readonly string[]): ReferenceOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? undefined : argv[i + 1]
  }
  const required = (name: string): string => {
    const v = value(name)
    if (v === undefined) throw new Error(`missing --${name}`)
    return v
  }
  return { port: Number(value('port') ?? 0), cert: readFileSync(required('cert'), 'utf8'), key: readFileSync(required('key'), 'utf8'), bodies: required('bodies'), data: value('data') }
}

export function sessionIdOf (header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  for (const segment of header.split(';')) {
    const eq = segment.indexOf('=')
    if (eq !== -1 && segment.slice(0, eq).trim() === 'id') return segment.slice(eq + 1).trim()
  }
  return undefined
}

/** Registers login and a session guard on /apis/v2/* (login excepted), like the emulator's. */
export function installBareAuth (app: FastifyInstance): void {
  const sessions = new Set<string>()
  app.addHook('onRequest', async function deviceHeaders (request: FastifyRequest, reply: FastifyReply) {
    void reply.header('server', 'nginx').header('strict-transport-security', 'max-age=31536000; includeSubDomains')
    if (request.url === '/apis/v2/login') return
    const id = sessionIdOf(request.headers.cookie)
    if (id === undefined || !sessions.has(id)) return reply.code(401).type(JSON_TYPE).send(UNAUTHENTICATED)
  })
  app.post('/apis/v2/login', async function login (request, reply) {
    const { username, password } = (request.body ?? {}) as { username?: unknown, password?: unknown }
    const expected = typeof username === 'string' ? PASSWORDS.get(username) : undefined
    const ok = expected !== undefined && typeof password === 'string' && password.length === expected.length && timingSafeEqual(Buffer.from(password), Buffer.from(expected))
    if (!ok) return reply.code(401).type(JSON_TYPE).send(UNAUTHENTICATED)
    const id = randomUUID()
    sessions.add(id)
    return reply.code(204)
      .header('cache-control', 'no-cache, no-store, must-revalidate').header('pragma', 'no-cache').header('expires', '0')
      .header('set-cookie', ['DisplayUnsavedWarning=; Max-Age=100000; Path=/; Secure; SameSite=Strict', `id=${id}; Path=/; HttpOnly; Secure; SameSite=Strict`])
      .send()
  })
}

/** What the bench fetched from the emulator, so the references answer with the same bytes. */
export interface Bodies {
  /** GET /apis/v2/streams, exactly */
  list: string
  /** GET /apis/v2/streams/stream-<id>, exactly */
  item: { id: string, body: string }
  /** GET /apis/v2/streams?full=true: every stream as the emulator presents it */
  full: Array<Record<string, unknown>>
}

export function readBodies (file: string): Bodies {
  return JSON.parse(readFileSync(file, 'utf8')) as Bodies
}

/** Announces readiness the way the emulator's `--print-ready json` does. */
export function announce (app: FastifyInstance): void {
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  process.stdout.write(JSON.stringify({ url: `https://127.0.0.1:${port}`, port, pid: process.pid }) + '\n')
}

export function stopOnSignals (app: FastifyInstance, flush: () => Promise<void> = async () => {}): void {
  const stop = () => { void app.close().then(flush).then(() => process.exit(0), (error: unknown) => { process.stderr.write(`${String(error)}\n`); process.exit(1) }) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
