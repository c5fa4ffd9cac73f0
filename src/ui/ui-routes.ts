import type { FastifyInstance, FastifyReply } from 'fastify'
import { AsyncLocalStorage } from 'node:async_hooks'
import { readFile } from 'node:fs/promises'
import { KrakenError } from '../kernel/errors.ts'
import type { Services } from '../services.ts'
import { LiveHub } from './live-hub.ts'

/** web/ beside src/ (and beside dist/ in the package): the page's files, served as they are. */
export const WEB_DIR = new URL('../../web/', import.meta.url)

/** The page's files: nothing else under /ui/assets is served, whatever the path says. */
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8'
}

/**
 * Stream and object names are user input shown to a class: the page runs no inline script and
 * loads nothing from another origin, whatever a name contains (the page also inserts every name
 * as text, never as HTML). `blob:` images are the thumbnails the page fetched itself.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'"
].join('; ')

declare module 'fastify' {
  interface FastifyInstance {
    /** The live page's event streams of the device at hand (src/ui/; in a fleet, the request's device). */
    liveHub: LiveHub
  }
}

function pageHeaders (reply: FastifyReply, type: string): FastifyReply {
  return reply.type(type)
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
}

/**
 * The live page: `/` and `/ui` (one static HTML file), its script and style sheet (open: they
 * hold no data), and `/ui/events`, the Server-Sent Events stream the page lives on (a session).
 */
export async function registerUi (app: FastifyInstance, services: () => Services): Promise<void> {
  const html = await readFile(new URL('index.html', WEB_DIR))
  const assets = new Map<string, { body: Buffer, type: string }>()
  for (const [name, type] of Object.entries(ASSETS)) assets.set(name, { body: await readFile(new URL(name, WEB_DIR)), type })

  // One hub per device, made when its first page connects: in a fleet one app serves many
  // devices, and a hub watches (and its timers read) the device it was made for, in that
  // device's scope, whoever's request or timer is running.
  const hubs = new Map<Services, LiveHub>()
  const hubOf = (device: Services): LiveHub => {
    let hub = hubs.get(device)
    if (hub === undefined) {
      hub = new LiveHub(device, AsyncLocalStorage.snapshot())
      hubs.set(device, hub)
    }
    return hub
  }
  app.decorate('liveHub', { getter: () => hubOf(services()) })
  app.addHook('onClose', async () => { for (const hub of hubs.values()) hub.close('shutdown') })
  // A write may create, change or delete something the pages show: look once it is answered.
  app.addHook('onResponse', async function liveCheck (request) {
    if (request.method === 'GET' || request.method === 'HEAD') return
    const hub = hubs.get(services())
    if (hub !== undefined && hub.size > 0) hub.queueCheck()
  })

  const page = { config: { access: 'open' as const }, schema: { hide: true } }
  app.get('/', page, async function livePage (_request, reply) {
    return pageHeaders(reply, 'text/html; charset=utf-8').send(html)
  })
  app.get('/ui', page, async function livePageUi (_request, reply) {
    return pageHeaders(reply, 'text/html; charset=utf-8').send(html)
  })
  app.get('/ui/assets/:file', page, async function liveAsset (request, reply) {
    const { file } = request.params as { file: string }
    const asset = Object.hasOwn(ASSETS, file) ? assets.get(file) : undefined
    if (asset === undefined) throw new KrakenError('NotFound', `no such path: /ui/assets/${file}`)
    return pageHeaders(reply, asset.type).send(asset.body)
  })

  app.get('/ui/events', { config: { access: 'session' }, schema: { hide: true } }, async function liveEvents (request, reply) {
    // The session guard ran: request.session is the caller.
    const viewer = request.session
    if (viewer === undefined) throw new Error('/ui/events reached without a session')
    const client = hubOf(services()).connect(viewer)
    reply.raw.on('close', () => client.close())
    return reply.type('text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .send(client.body)
  })
}
