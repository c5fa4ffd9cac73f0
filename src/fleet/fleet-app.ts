import { AsyncLocalStorage } from 'node:async_hooks'
import https from 'node:https'
import net, { type AddressInfo, type Server as NetServer } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls'
import type { Writable } from 'node:stream'
import type { FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { closeServices, createFastify, createServices, openSeeded, registerDevice, type KrakenApp } from '../app.ts'
import type { Config } from '../config.ts'
import { DeviceClock, type Clock } from '../kernel/clock.ts'
import { Registry } from '../kernel/registry.ts'
import { resources } from '../resources/index.ts'
import { RouteIndex } from '../plugins/route-index.ts'
import { connectionTimeouts } from '../plugins/connection-limits.ts'
import { HSTS } from '../plugins/transport.ts'
import { secretFields } from '../control/request-log-mask.ts'
import { Seeder } from '../seed.ts'
import type { Services } from '../services.ts'
import { tlsServerOptions, type TlsMaterial } from '../tls/certificate.ts'
import { ServedCertificate } from '../tls/served-certificate.ts'
import { applyIdentity } from './device-identity.ts'
import type { DeviceSpec, FleetPlan } from './fleet-plan.ts'
import { registerFleetRoutes } from './fleet-routes.ts'

/** One device of a running fleet. */
export interface FleetDevice {
  spec: DeviceSpec
  services: Services
  /** `https://<address or name>:<port>` */
  url: string
}

export interface BuiltFleet {
  /** The one Fastify app every device shares; `app.kraken` is the device of the request at hand. */
  app: KrakenApp
  devices: FleetDevice[]
  /** Binds every device's address or port (the app's own server takes the first). */
  listen: () => Promise<void>
  /** Stops accepting on every address and port (the app's close does the rest). */
  closeListeners: () => Promise<void>
  /** The TLS servers of devices with their own certificate, besides the app's (address and port modes). */
  servers: () => https.Server[]
  /** Runs `fn` as device `device` (what a request to it sees as `app.kraken`). */
  runAs: <T>(device: Services, fn: () => T) => T
}

// Requests for the device resolved at connection time; hooks re-enter its scope from here.
const DEVICE = Symbol('kraken.device')
type Tagged = IncomingMessage & { [DEVICE]?: Services }

/**
 * Many devices in one Fastify app. Every route and hook reads its device through the same getter
 * a single emulator uses (`() => services`, src/app.ts); here the getter answers the device of
 * the request at hand, kept in an AsyncLocalStorage entered when the request arrives (and again
 * at each hook, since Node runs body events outside it). Schemas, serializers, routes and the TLS
 * context exist once; each device has its own store, sessions, clock, runtime, request log,
 * faults and control token.
 */
export async function buildFleet (config: Config, plan: FleetPlan, deps: { tls: TlsMaterial, deviceTls?: ReadonlyMap<number, TlsMaterial>, logStream?: Writable, clock?: Clock }): Promise<BuiltFleet> {
  const scope = new AsyncLocalStorage<Services>()
  const current = (): Services => {
    const device = scope.getStore()
    if (device === undefined) throw new Error('no device in scope: fleet code ran outside a request or a device timer')
    return device
  }
  const runAs = <T>(device: Services, fn: () => T): T => scope.run(device, fn)
  const registry = new Registry(resources)
  const secrets = secretFields(registry)
  const byAddress = new Map<string, Services>()
  const byPort = new Map<number, Services>()
  const byName = new Map<string, Services>()
  const kind = plan.addressing.kind

  function deviceOf (req: IncomingMessage): Services | undefined {
    const socket = req.socket as TLSSocket
    if (kind === 'addresses') return byAddress.get((socket.localAddress ?? '').replace(/^::ffff:/, ''))
    if (kind === 'ports') return byPort.get(socket.localPort ?? -1)
    const sni = typeof socket.servername === 'string' ? byName.get(socket.servername.toLowerCase()) : undefined
    return sni ?? byName.get(String(req.headers.host ?? '').replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase())
  }

  // The certificate each device serves: its own from the fleet file, else the fleet's. By SNI in
  // hostname mode; by listener otherwise (a client naming an address sends no SNI).
  const pairOf = (spec: DeviceSpec): TlsMaterial => deps.deviceTls?.get(spec.number) ?? deps.tls
  const headPair = kind === 'hostnames' ? deps.tls : pairOf(plan.devices[0]!)
  const contexts = new Map<string, SecureContext>()
  if (kind === 'hostnames') {
    for (const spec of plan.devices) {
      const own = deps.deviceTls?.get(spec.number)
      if (own !== undefined) contexts.set(spec.urlHost.toLowerCase(), createSecureContext({ key: own.key, cert: own.cert, ...tlsServerOptions }))
    }
  }
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const app = await createFastify(config, registry, deps.logStream, {
    serverFactory: (handler) => {
      handle = (req: Tagged, res: ServerResponse) => {
        // Probes (the image's HEALTHCHECK, Kubernetes' httpGet) connect by IP and cannot name a
        // device: the fleet's health is answered as its first device's, which shares its process.
        const device = deviceOf(req) ?? (isHealthProbe(req) ? devices[0]?.services : undefined)
        if (device === undefined) { misdirected(req, res); return }
        req[DEVICE] = device
        scope.run(device, () => handler(req, res))
      }
      return https.createServer({
        key: headPair.key,
        cert: headPair.cert,
        ...tlsServerOptions,
        ...connectionTimeouts(config),
        // No context: the server's own (the fleet's certificate).
        ...(contexts.size > 0 && { SNICallback: (name: string, done: (error: Error | null, context?: SecureContext) => void) => { done(null, contexts.get(name.toLowerCase())) } })
      }, handle)
    }
  })
  const deviceFor = (request: FastifyRequest): Services => (request.raw as Tagged)[DEVICE] ?? current()
  // Body parsing resumes from socket events, outside the request's scope: each later stage enters it again.
  for (const name of ['preParsing', 'preSerialization', 'onSend'] as const) {
    app.addHook(name, function enterDevice (request: FastifyRequest, _reply: unknown, payload: unknown, done: (error: Error | null, payload?: unknown) => void) {
      scope.run(deviceFor(request), () => done(null, payload))
    } as never)
  }
  for (const name of ['preValidation', 'preHandler', 'onResponse', 'onTimeout'] as const) {
    app.addHook(name, function enterDevice (request: FastifyRequest, _reply: unknown, done: HookHandlerDoneFunction) {
      scope.run(deviceFor(request), done)
    } as never)
  }
  app.addHook('onError', function enterDevice (request: FastifyRequest, _reply: unknown, _error: unknown, done: () => void) {
    scope.run(deviceFor(request), done)
  })
  app.addHook('onRequestAbort', function enterDevice (request: FastifyRequest, done: HookHandlerDoneFunction) {
    scope.run(deviceFor(request), done)
  })

  const routeIndex = new RouteIndex()
  routeIndex.attach(app)
  // Devices seeded with the same passwords share their hashes (hashing each copy anew would cost
  // a thousand scrypt runs for nothing); fixtures are read once.
  const seeders = new Map<string, Seeder>()
  const seederFor = (spec: DeviceSpec): Seeder => {
    const key = JSON.stringify(spec.passwords)
    let seeder = seeders.get(key)
    if (seeder === undefined) {
      seeder = new Seeder({ ...config, adminPassword: spec.passwords.admin, operatorPassword: spec.passwords.operator, viewerPassword: spec.passwords.viewer }, true)
      seeders.set(key, seeder)
    }
    return seeder
  }

  const devices: FleetDevice[] = []
  // A few stores open at once: opening is file I/O, and a thousand at once would only queue.
  for (let from = 0; from < plan.devices.length; from += 16) {
    devices.push(...await Promise.all(plan.devices.slice(from, from + 16).map(async spec => {
      const deviceConfig: Config = { ...config, host: spec.address, port: spec.port, hostname: spec.urlHost, fixture: spec.fixture, data: spec.data ?? config.data, inMemory: spec.data === undefined }
      const seeder = seederFor(spec)
      const seed = async (fixture: string) => applyIdentity(await seeder.db(fixture), spec.identity)
      const store = await openSeeded(deviceConfig, registry, seed)
      const clock = deps.clock ?? new DeviceClock({ mode: config.clock })
      const services = createServices({
        app,
        config: deviceConfig,
        clock,
        registry,
        store,
        seed,
        routes: routeIndex,
        log: app.log.child({ device: spec.number }),
        secrets,
        // The fleet's certificate (or the device's own from the fleet file) is served: one chosen
        // through a device's API is kept in its data but not served, as when --cert/--key are
        // given (README "A fleet").
        tls: new ServedCertificate({ cert: pairOf(spec).cert, key: pairOf(spec).key }, true)
      })
      if (clock instanceof DeviceClock && deps.clock === undefined) {
        // Device timers (transitions, reboots, session sweeps) fire as their device.
        const schedule = clock.setTimeout
        clock.setTimeout = (fn, ms) => schedule(() => { scope.run(services, fn) }, ms)
      }
      return { spec, services, url: '' }
    })))
  }
  for (const device of devices) {
    byAddress.set(device.spec.address, device.services)
    byPort.set(device.spec.port, device.services)
    byName.set(device.spec.urlHost.toLowerCase(), device.services)
  }

  const first = devices[0]!.services
  await scope.run(first, () => registerDevice(app, current, routeIndex, registry))
  // Registration ran once, as the first device: the hooks it added for "the" device are the
  // fleet's, each run as the device it is called for.
  const { onReset, onBoot, onTransition, hold } = first
  for (const { services } of devices) {
    services.onReset = onReset.map(hook => () => scope.run(services, hook))
    services.onTransition = onTransition.map(hook => change => { scope.run(services, () => hook(change)) })
    services.onBoot = onBoot.map(hook => () => { scope.run(services, hook) })
    services.hold = hold === undefined ? undefined : uuid => scope.run(services, () => hold(uuid))
  }
  registerFleetRoutes(app, () => devices.map(d => ({ number: d.spec.number, url: d.url, address: d.spec.address, port: d.spec.port, hostname: d.spec.identity.hostname, serial: d.spec.identity.serial })), plan)
  app.decorate('kraken', { getter: current })
  app.addHook('onClose', async () => {
    const results = await Promise.allSettled(devices.map(d => scope.run(d.services, async () => {
      d.services.runtime.cancelReboot()
      await closeServices(d.services, deps.clock === undefined)
    })))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  })
  // The close goes on when the last connection ends, in that connection's context (outside any
  // device, e.g. a live page's stream): the onClose hooks registration added for "the" device
  // run as the first device, as they were registered (Fastify runs onClose hooks last added first).
  app.addHook('onClose', function enterFirstDevice (_instance, done) { scope.run(first, done) })
  await scope.run(first, () => app.ready())
  // The app's onReady hook auto-started the first device's streams (it ran in its scope): the others here.
  for (const { services } of devices.slice(1)) scope.run(services, () => services.runtime.autoStart())

  const listeners: NetServer[] = []
  // Address and port modes: a TLS server per certificate other than the first device's (same
  // handler, same limits); each listener hands its connections to its device's.
  const servers = new Map<TlsMaterial, https.Server>()
  const serverFor = (pair: TlsMaterial): https.Server => {
    if (pair === headPair) return app.server as unknown as https.Server
    let server = servers.get(pair)
    if (server === undefined) {
      const main = app.server as unknown as https.Server
      server = https.createServer({ key: pair.key, cert: pair.cert, ...tlsServerOptions, ...connectionTimeouts(config) }, handle)
      server.keepAliveTimeout = main.keepAliveTimeout
      server.maxRequestsPerSocket = main.maxRequestsPerSocket
      server.timeout = main.timeout
      for (const listener of main.listeners('clientError')) server.on('clientError', listener as (...args: unknown[]) => void)
      servers.set(pair, server)
    }
    return server
  }
  async function listen (): Promise<void> {
    const head = devices[0]!
    await app.listen({ host: head.spec.address, port: head.spec.port, listenTextResolver: (address) => `fleet listening on ${address} (device ${head.spec.number})` })
    const headPort = (app.server.address() as AddressInfo).port
    head.spec.port = headPort
    byPort.set(headPort, head.services)
    if (kind !== 'hostnames') {
      for (const device of devices.slice(1)) {
        // A plain listener per address or port hands each connection to the one TLS server.
        const server = serverFor(pairOf(device.spec))
        const listener = net.createServer(socket => { server.emit('connection', socket) })
        listener.maxConnections = config.maxConnections
        listeners.push(listener)
        const port = kind === 'addresses' ? headPort : device.spec.port
        await new Promise<void>((resolve, reject) => {
          listener.once('error', reject)
          listener.listen(port, device.spec.address, () => { listener.off('error', reject); resolve() })
        })
        device.spec.port = (listener.address() as AddressInfo).port
        byPort.set(device.spec.port, device.services)
      }
    } else {
      for (const device of devices) device.spec.port = headPort
    }
    for (const device of devices) device.url = `https://${device.spec.urlHost}:${device.spec.port}`
  }
  async function closeListeners (): Promise<void> {
    await Promise.all(listeners.map(l => new Promise<void>(resolve => { if (l.listening) l.close(() => resolve()); else resolve() })))
    for (const server of servers.values()) {
      // These servers never listen (their listeners do), so closing is by hand: idle connections
      // now, busy ones just after their answer.
      server.keepAliveTimeout = 1
      server.closeIdleConnections()
    }
  }
  return { app, devices, listen, closeListeners, runAs, servers: () => [...servers.values()] }
}

function isHealthProbe (req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /^\/_emulator\/health\/?(\?|$)/.test(req.url ?? '')
}

/** A request for a name no device answers to (hostname mode): 421, in the envelope. */
function misdirected (req: IncomingMessage, res: ServerResponse): void {
  const host = String(req.headers.host ?? '')
  const body = JSON.stringify({ error: { type: 'NotFound', message: `no device of this fleet answers to ${JSON.stringify(host.slice(0, 253))}`, details: [] } })
  res.writeHead(421, { server: 'nginx', 'strict-transport-security': HSTS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

