import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { existsSync } from 'node:fs'
import type { Writable } from 'node:stream'
import './fastify-types.ts'
import { resolveConfig, type Config } from './config.ts'
import { DeviceClock, type Clock } from './kernel/clock.ts'
import { Registry } from './kernel/registry.ts'
import { canonicalUrl } from './kernel/paths.ts'
import { registerCrudRoutes } from './kernel/crud-routes.ts'
import { ErrorEnvelope } from './kernel/schemas.ts'
import { compile, lazyValidator } from './kernel/validator.ts'
import { openStore, type Db, type Store } from './kernel/store.ts'
import { installErrorHandler } from './plugins/error-handler.ts'
import { HSTS, installTransport } from './plugins/transport.ts'
import { answerClientError } from './plugins/client-error.ts'
import { RouteIndex } from './plugins/route-index.ts'
import { cachedSerializerFactory } from './plugins/serializer-cache.ts'
import { registerApidoc } from './plugins/apidoc.ts'
import { installRouteGuard } from './auth/route-guard.ts'
import { resolveControlAccess } from './auth/control-access.ts'
import { connectionTimeouts, installConnectionLimits } from './plugins/connection-limits.ts'
import { registerLoginRoutes } from './auth/login-routes.ts'
import { SessionStore } from './auth/sessions.ts'
import { Lockout } from './auth/lockout.ts'
import { registerEmulatorRoutes } from './emulator-routes.ts'
import { installControl } from './control/index.ts'
import { resources } from './resources/index.ts'
import { readLicense, registerSystemRoutes } from './system/index.ts'
import { createStreamRuntime, installRebootGate, registerRuntimeRoutes } from './runtime/stream-runtime.ts'
import { checkDb, checkKeyOf } from './check-db.ts'
import { registerAdminRoutes } from './admin/index.ts'
import { DeviceLog, deviceNow, registerMaintenanceRoutes } from './system/maintenance.ts'
import { Seeder } from './seed.ts'
import { FixtureError } from './fixtures.ts'
import { MIGRATIONS } from './migrations/index.ts'
import type { Services } from './services.ts'
import { RequestLog } from './control/request-log.ts'
import { secretFields } from './control/request-log-mask.ts'
import { installRequestLog } from './control/request-log-hooks.ts'
import { registerRequestLogRoutes } from './control/request-log-routes.ts'
import { Faults } from './control/faults.ts'
import { installFaults } from './control/fault-hooks.ts'
import { registerFaultRoutes } from './control/fault-routes.ts'
import { ScenarioPlayer } from './control/scenario-player.ts'
import { scenarioHost } from './control/scenario-host.ts'
import { registerUi } from './ui/ui-routes.ts'
import type { TlsMaterial } from './tls/certificate.ts'
import { tlsServerOptions } from './tls/certificate.ts'
import { ServedCertificate } from './tls/served-certificate.ts'
import type { Server as TlsServer } from 'node:tls'

export const BODY_LIMIT = 1024 * 1024

export interface AppDeps {
  /** A store opened by the caller; by default one is opened from `config.data` (or in memory). */
  store?: Store
  clock?: Clock
  /** Serve HTTPS with this material; without it the app is plain HTTP (for inject-only tests). */
  tls?: TlsMaterial
  /** Where log lines go (a test captures them); stdout by default. */
  logStream?: Writable
}

export type KrakenApp = FastifyInstance & { kraken: Services }

/**
 * Builds one emulator: a Fastify instance with every route, its own store, sessions and clock.
 * Never listens and never reads process.env: the CLI and startEmulator() do that.
 */
export async function buildApp (partial: Partial<Config> = {}, deps: AppDeps = {}): Promise<KrakenApp> {
  const config = resolveConfig(partial)
  const clock = deps.clock ?? new DeviceClock({ mode: config.clock })
  const registry = new Registry(resources)
  const seeder = new Seeder(config)
  const store = deps.store ?? await openSeeded(config, registry, fixture => seeder.db(fixture))

  const app = await createFastify(config, registry, deps.logStream,
    deps.tls === undefined ? {} : { https: { key: deps.tls.key, cert: deps.tls.cert, ...tlsServerOptions, ...connectionTimeouts(config) } })
  installConnectionLimits(app.server, config)
  const routeIndex = new RouteIndex()
  routeIndex.attach(app)
  const services = createServices({
    app,
    config,
    clock,
    registry,
    store,
    seed: fixture => seeder.db(fixture),
    routes: routeIndex,
    log: app.log,
    secrets: secretFields(registry),
    // --cert/--key win over a certificate chosen through the API (README Fidelity, Administration).
    tls: new ServedCertificate(deps.tls === undefined ? undefined : { cert: deps.tls.cert, key: deps.tls.key }, config.cert !== undefined && config.cert !== '')
  })
  // With `https` options Fastify's server is an https.Server, whose certificate can be swapped.
  services.tls.attach(deps.tls === undefined ? undefined : app.server as unknown as TlsServer)
  app.decorate('kraken', services)
  await registerDevice(app, () => services, routeIndex, registry)
  app.addHook('onClose', async () => {
    await closeServices(services, deps.clock === undefined)
  })
  return app
}

/** A Fastify instance with the emulator's options, schemas and parsers, and no route yet. */
export async function createFastify (config: Config, registry: Registry, logStream: Writable | undefined, server: { https?: object, serverFactory?: FastifyServerOptions['serverFactory'] }): Promise<KrakenApp> {
  const options: FastifyServerOptions = {
    logger: {
      level: config.logLevel,
      ...(logStream === undefined ? {} : { stream: logStream }),
      // Cookies carry session ids and never reach the log; bodies are never logged.
      redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'], censor: '[redacted]' }
    },
    bodyLimit: BODY_LIMIT,
    rewriteUrl: (req) => canonicalUrl(req.url ?? '/', registry),
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
    // The router refuses a malformed %-escape or an overlong id before any hook runs: answer in
    // the envelope with the device headers too (kraken-api.md sections 1 and 4). An id over
    // maxParamLength cannot exist, hence 404 [ours].
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const notFound = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      void reply.code(notFound ? 404 : 400).header('server', 'nginx').header('strict-transport-security', HSTS)
        .type('application/json; charset=utf-8')
        .send({ error: { type: notFound ? 'NotFound' : 'Validation', message: notFound ? 'no such path: an id is too long' : 'malformed URL (bad %-escape)', details: [] } })
    },
    // Node's HTTP parser refuses some requests before Fastify sees them (an oversized header, a
    // malformed request line): those answers carry the envelope and the device headers too.
    clientErrorHandler: answerClientError,
    schemaController: { compilersFactory: { buildSerializer: cachedSerializerFactory } },
    requestTimeout: config.requestTimeout,
    ...server
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>() as unknown as KrakenApp
  app.setValidatorCompiler(({ schema }) => lazyValidator(schema as Parameters<typeof compile>[0]))
  app.removeContentTypeParser('text/plain')
  app.addSchema(ErrorEnvelope)
  // Only reply.setCookie is used: the session guard reads the raw header (every `id` value), so the
  // plugin's per-request cookie parsing is turned off.
  await app.register(fastifyCookie, { hook: false })
  return app
}

/** What one device is made of besides what createServices builds. */
export interface DeviceParts {
  /** The app the device is served by (a scenario injects its calls there). */
  app: KrakenApp
  config: Config
  clock: Clock
  registry: Registry
  store: Store
  /** The Db a fixture seeds (a reset restores it). */
  seed: (fixture: string) => Promise<Db>
  routes: RouteIndex
  log: FastifyBaseLogger
  secrets: ReturnType<typeof secretFields>
  tls: ServedCertificate
}

/** One device's state: sessions, lockout, request log, faults, runtime, reset. */
export function createServices (parts: DeviceParts): Services {
  const { config, clock, registry, store, seed } = parts
  const services: Services = {
    config,
    clock,
    deviceClock: clock instanceof DeviceClock ? clock : undefined,
    registry,
    store,
    sessions: new SessionStore(clock, config.sessionTimeout * 1000, config.sessionIdFormat, config.maxSessions),
    lockout: new Lockout(clock, config.lockoutAttempts, config.lockoutSeconds),
    routes: parts.routes,
    control: resolveControlAccess(config.host, config.controlToken),
    requestLog: new RequestLog({ entries: config.journalSize, bytes: config.journalBytes }, parts.secrets),
    faults: new Faults(config.seed),
    scenarios: new ScenarioPlayer(scenarioHost(parts.app, () => services)),
    runtime: undefined as unknown as Services['runtime'], // set just below: the runtime needs the services it belongs to
    log: parts.log,
    startedAt: clock.now(),
    onReset: [],
    onBoot: [],
    checkDb: db => checkDb(db, registry),
    tls: parts.tls,
    // Time-stamped with the device's time (a manual time, if set), as a device writes its log.
    deviceLog: new DeviceLog(() => deviceNow(store, clock.now())),
    secretFields: () => services.requestLog.secrets,
    onTransition: [],
    reset: async (fixture?: string) => {
      const db: Db = await seed(fixture ?? store.fixture())
      checkDb(db, registry)
      const durable = store.replace(db)
      services.sessions.clear()
      services.lockout.clear()
      services.runtime.stopAll()
      // A reset starts a test afresh: no fault left from the last one, no request it made.
      services.faults.clear()
      services.requestLog.clear()
      for (const hook of services.onReset) await hook()
      await durable
    }
  }
  services.runtime = createStreamRuntime(() => services, () => readLicense(services))
  return services
}

/**
 * Every hook and route of a device, reading the device through `services` (one device, or the
 * device a request is for in a fleet).
 */
export async function registerDevice (app: KrakenApp, services: () => Services, routeIndex: RouteIndex, registry: Registry): Promise<void> {
  // First: a request refused by a later hook (a guard) still has its arrival time.
  installRequestLog(app, services)

  await registerApidoc(app)
  installErrorHandler(app)
  installTransport(app, routeIndex)
  installRebootGate(app, services)
  installControl(app, services)
  installRouteGuard(app, { sessions: () => services().sessions, controlToken: () => services().control.token })
  installFaults(app, services) // after the guards: a fault may match the session's user

  registerLoginRoutes(app, services)
  registerCrudRoutes(app, registry, () => services().store)
  registerSystemRoutes(app, services)
  registerRuntimeRoutes(app, services)
  registerAdminRoutes(app, services)
  registerMaintenanceRoutes(app, services)
  registerEmulatorRoutes(app, services)
  registerRequestLogRoutes(app, services)
  registerFaultRoutes(app, services)
  await registerUi(app, services)
}

/** Stops a device's timers and flushes its store (`stopClock`: the clock is the device's own). */
export async function closeServices (services: Services, stopClock: boolean): Promise<void> {
  services.scenarios.stop('the emulator closed')
  services.sessions.stop()
  services.runtime.stopAll()
  if (stopClock) services.deviceClock?.stop()
  await services.store.close()
}

/** Opens the data file, seeding it from the fixture when there is none. */
export async function openSeeded (config: Config, registry: Registry, seedDb: (fixture: string) => Promise<Db>): Promise<Store> {
  const file = config.inMemory ? undefined : config.data
  // Seeding is synchronous in the store and hashing is not, so the seed is built before opening,
  // but only when it will be used: an existing data file is opened as it is, and a cold start
  // then hashes no password. (Should the file vanish in between, the store asks for the seed and
  // gets a clear error.)
  const seed = file !== undefined && existsSync(file) ? undefined : await seedDb(config.fixture)
  if (seed !== undefined) {
    // The store checks only data it loads from a file; a fixture is checked here, before it is used.
    try {
      checkDb(seed, registry)
    } catch (error) {
      throw new FixtureError(`fixture '${config.fixture}': ${(error as Error).message}`)
    }
  }
  return openStore({
    file,
    seed: () => {
      if (seed === undefined) throw new FixtureError(`${String(file)} disappeared while the emulator started`)
      return seed
    },
    idField: c => registry.idField(c),
    check: db => checkDb(db, registry),
    checkKey: checkKeyOf(registry),
    migrations: MIGRATIONS
  })
}
