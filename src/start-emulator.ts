import http from 'node:http'
import type { AddressInfo, Server, Socket } from 'node:net'
import { buildApp, type AppDeps, type KrakenApp } from './app.ts'
import { resolveConfig, type Config } from './config.ts'
import { loadOrCreateCertificate } from './tls/certificate.ts'
import { parseDuration, type Clock, type ClockMode } from './kernel/clock.ts'
import { connectionTimeouts, installConnectionLimits } from './plugins/connection-limits.ts'
import { answerClientError } from './plugins/client-error.ts'
import { requestLogHandle, type RequestLogHandle } from './control/request-log-expect.ts'
import type { Services } from './services.ts'

/**
 * Any CLI option (camelCase, e.g. `transitionMs`), plus in-process extras. Left out, an option
 * takes the CLI's default, except these test-fixture defaults, so that emulators started side by
 * side never share a port, a file or a certificate unless asked [ours]:
 * - `port`: 0 (a free port; read it from `port`/`url`), not 8443;
 * - `inMemory`: true unless `data` is given (then that file, locked to this emulator);
 * - the certificate: a fresh one in memory unless `certs` or `cert`/`key` are given;
 * - `logLevel`: `warn`, so test output is not flooded with request logs.
 */
export type EmulatorOptions = Omit<Partial<Config>, 'clock'> & Pick<AppDeps, 'logStream' | 'store'> & {
  /**
   * The device clock: `'real'` (default) or `'manual'` (frozen at the real time, moved with
   * `emulator.clock`), as `--clock`; or a Clock of your own (e.g. a ManualClock you advance).
   */
  clock?: Clock | ClockMode
  /**
   * How long `close()` lets in-flight requests finish before it cuts the remaining connections
   * (default 5000 ms) [ours]. The port is released at once either way.
   */
  closeGraceMs?: number
}

export const DEFAULT_CLOSE_GRACE_MS = 5000

export interface RunningEmulator extends RequestLogHandle {
  /** `https://127.0.0.1:<port>`: the real port, also when started on port 0. */
  url: string
  port: number
  /**
   * The certificate (PEM) the HTTPS port serves now, to trust it instead of turning verification
   * off. A getter: it follows an Administrator's switch (PUT /apis/v2/certificates/.../serve).
   */
  readonly certificate: string
  /** Its SHA-256 fingerprint, as openssl prints it (a getter too: it changes when the certificate is switched). */
  readonly fingerprint: string
  /** The certificate served now and its fingerprint, as one reading (a copy of the handle keeps working). */
  currentCertificate: () => { certificate: string, fingerprint: string }
  /** Problems worth showing (a given certificate expired or readable by others, control routes left open...); one line each. */
  warnings: readonly string[]
  /**
   * The token the /_emulator control routes require in `X-Kraken-Control-Token`, or undefined when
   * they need none (loopback without `controlToken`, or `controlToken: 'off'`). `reset()` needs no
   * token: it runs in process.
   */
  controlToken: string | undefined
  /** The plain-HTTP redirect port, when `httpPort` was given. */
  httpPort: number | undefined
  /** The Fastify app, for `inject()` and for reaching the emulator's services. */
  app: KrakenApp
  /** Restores a fixture (the active one by default); resolves once fully restored. */
  reset: (fixture?: string) => Promise<void>
  /**
   * The device clock (GET/POST /_emulator/clock in process). `advance('15m')` (or ms, `'90s'`,
   * `'1h30m'`) and `set(date)` move it forward only, firing what falls due (transitions,
   * session expiry, reboots, fault recoveries); both throw a RangeError for time in the past, and
   * an Error when the clock given in `clock` is a plain Clock that cannot be moved.
   */
  clock: EmulatorClock
  /**
   * Stops accepting connections (the port is free as soon as this is called), lets in-flight
   * requests finish (cutting connections still open after `closeGraceMs`), then flushes and
   * unlocks the store. Idempotent; safe after a failed test. Rejects only if flushing failed,
   * and even then the port and the connections are released.
   */
  close: () => Promise<void>
}

/** Starts one emulator listening on HTTPS (and the optional redirect port). */
export async function startEmulator (options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { clock: clockOption, logStream, store, closeGraceMs = DEFAULT_CLOSE_GRACE_MS, ...rest } = options
  const clock = typeof clockOption === 'string' ? undefined : clockOption
  const partial: Partial<Config> = { ...rest, ...(typeof clockOption === 'string' && { clock: clockOption }) }
  const config = resolveConfig(withFixtureDefaults(partial))
  const tls = await loadOrCreateCertificate({
    certsDir: config.certs,
    certFile: config.cert,
    keyFile: config.key,
    hostname: config.hostname,
    // The CLI always passes `certs` (./certs by default, as the contract says); an in-process
    // caller who names no certificate gets its own, so parallel emulators never share one.
    inMemory: partial.certs === undefined
  })
  const app = await buildApp(config, { tls, ...(clock && { clock }), ...(logStream && { logStream }), ...(store && { store }) })
  const sockets = trackSockets(app.server)
  let redirect: http.Server | undefined
  let redirectSockets: Set<Socket> | undefined
  try {
    await app.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `listening on ${address}` })
    if (config.httpPort !== undefined) {
      // The redirect port holds connections under the same limits as the API port, and answers
      // (or closes on) a request the parser refuses in the same way.
      redirect = http.createServer(connectionTimeouts(config))
      installConnectionLimits(redirect, config)
      redirect.on('clientError', answerClientError)
      redirectSockets = trackSockets(redirect)
      await listenRedirect(redirect, config, (app.server.address() as AddressInfo).port)
    }
  } catch (error) {
    // Whatever failed (a port in use, say), give back what was taken: the other port, the store lock.
    await shutDown(app, redirect, [sockets, redirectSockets], 0).catch((closeError: unknown) => {
      app.log.error({ err: closeError }, 'cleaning up after a failed start failed too')
    })
    throw error
  }
  const port = (app.server.address() as AddressInfo).port
  const currentCertificate = () => {
    const served = app.kraken.tls.current()
    return served === undefined ? { certificate: tls.cert, fingerprint: tls.fingerprint } : { certificate: served.cert, fingerprint: served.fingerprint }
  }
  let closing: Promise<void> | undefined
  return {
    url: `https://${urlHost(config.hostname ?? config.host)}:${port}`,
    port,
    get certificate () { return currentCertificate().certificate },
    get fingerprint () { return currentCertificate().fingerprint },
    currentCertificate,
    warnings: [...(tls.warnings ?? []), ...app.kraken.control.warnings],
    controlToken: app.kraken.control.token,
    httpPort: redirect === undefined ? undefined : (redirect.address() as AddressInfo).port,
    app,
    reset: (fixture?: string) => app.kraken.reset(fixture),
    clock: emulatorClock(() => app.kraken),
    ...requestLogHandle(() => app.kraken.requestLog),
    close: () => {
      closing ??= shutDown(app, redirect, [sockets, redirectSockets], closeGraceMs)
      return closing
    }
  }
}

export interface EmulatorClock {
  /** Device time (ms since the epoch). */
  now: () => number
  mode: () => ClockMode
  advance: (duration: string | number) => void
  set: (at: Date | string | number) => void
  setMode: (mode: ClockMode) => void
}

/** The clock handle of one device (a fleet's devices each have one). */
export function emulatorClock (services: () => Services): EmulatorClock {
  const movable = () => {
    const clock = services().deviceClock
    if (clock === undefined) throw new Error('this emulator runs on the Clock given in `clock`: move that clock instead')
    return clock
  }
  return {
    now: () => services().clock.now(),
    mode: () => movable().mode,
    advance: (duration) => {
      const ms = parseDuration(duration)
      if (ms === undefined) throw new RangeError(`not a duration: ${String(duration)} (expected ms or e.g. '15m', '90s', '1h30m', '500ms')`)
      movable().advance(ms)
    },
    set: (at) => movable().set(at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at),
    setMode: (mode) => movable().setMode(mode)
  }
}

/** The options given, over the test-fixture defaults (see EmulatorOptions); undefined means left out. */
export function withFixtureDefaults (partial: Partial<Config>): Partial<Config> {
  const merged: Record<string, unknown> = { port: 0, inMemory: partial.data === undefined, logLevel: 'warn' }
  for (const [key, value] of Object.entries(partial)) if (value !== undefined) merged[key] = value
  return merged as Partial<Config>
}

/** Every TCP connection of a server, TLS handshakes included, so a stuck one can be cut. */
export function trackSockets (server: Server): Set<Socket> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  return sockets
}

/**
 * Closes both servers and the app whatever fails on the way. Fastify stops accepting, answers the
 * requests in flight (idle keep-alive connections are closed at once), then runs the app's onClose
 * hooks, which stop the runtime and flush the store. Connections still open after `graceMs` are
 * destroyed, so close() cannot hang on a client that never finishes its request.
 */
async function shutDown (app: KrakenApp, redirect: http.Server | undefined, tracked: Array<Set<Socket> | undefined>, graceMs: number): Promise<void> {
  const cut = setTimeout(() => {
    for (const sockets of tracked) for (const socket of sockets ?? []) socket.destroy()
  }, graceMs)
  cut.unref()
  try {
    const results = await Promise.allSettled([
      redirect === undefined || !redirect.listening ? Promise.resolve() : new Promise<void>((resolve, reject) => redirect.close(error => error ? reject(error) : resolve())),
      app.close()
    ])
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  } finally {
    clearTimeout(cut)
  }
}

function urlHost (host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/** The device's nginx answers plain HTTP with 301 to the HTTPS URL [ours]. */
async function listenRedirect (server: http.Server, config: Config, httpsPort: number): Promise<void> {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const hostHeader = (req.headers.host ?? urlHost(config.hostname ?? config.host)).replace(/:\d+$/, '')
    const location = `https://${hostHeader}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url ?? '/'}`
    // Same nginx headers as every HTTPS response (kraken-api.md section 1: HSTS on every response).
    res.writeHead(301, { location, server: 'nginx', 'strict-transport-security': 'max-age=31536000; includeSubDomains', 'content-type': 'text/html', 'content-length': '0' })
    res.end()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.httpPort, config.host, () => { server.off('error', reject); resolve() })
  })
}
