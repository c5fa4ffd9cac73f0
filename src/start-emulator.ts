import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildApp, type AppDeps, type KrakenApp } from './app.ts'
import { resolveConfig, type Config } from './config.ts'
import { loadOrCreateCertificate } from './tls/certificate.ts'

export type EmulatorOptions = Partial<Config> & Pick<AppDeps, 'clock' | 'logStream' | 'store'>

export interface RunningEmulator {
  /** `https://127.0.0.1:<port>`: the real port, also when started on port 0. */
  url: string
  port: number
  /** The server certificate (PEM), to trust it instead of turning verification off. */
  certificate: string
  /** Its SHA-256 fingerprint, as openssl prints it. */
  fingerprint: string
  /** The plain-HTTP redirect port, when `httpPort` was given. */
  httpPort: number | undefined
  /** The Fastify app, for `inject()` and for reaching the emulator's services. */
  app: KrakenApp
  /** Restores a fixture (the active one by default); resolves once fully restored. */
  reset: (fixture?: string) => Promise<void>
  /** Stops listening, finishes in-flight writes, flushes the store. Idempotent. */
  close: () => Promise<void>
}

/** Starts one emulator listening on HTTPS (and the optional redirect port). */
export async function startEmulator (options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { clock, logStream, store, ...partial } = options
  const config = resolveConfig(partial)
  const tls = await loadOrCreateCertificate({
    certsDir: config.certs,
    certFile: config.cert,
    keyFile: config.key,
    hostname: config.hostname,
    inMemory: config.inMemory && config.cert === undefined && partial.certs === undefined
  })
  const app = await buildApp(config, { tls, ...(clock && { clock }), ...(logStream && { logStream }), ...(store && { store }) })
  let redirect: http.Server | undefined
  try {
    await app.listen({ host: config.host, port: config.port, listenTextResolver: () => '' })
    const port = (app.server.address() as AddressInfo).port
    const host = urlHost(config.hostname ?? config.host)
    const url = `https://${host}:${port}`
    if (config.httpPort !== undefined) redirect = await listenRedirect(config, port)
    let closing: Promise<void> | undefined
    return {
      url,
      port,
      certificate: tls.cert,
      fingerprint: tls.fingerprint,
      httpPort: redirect === undefined ? undefined : (redirect.address() as AddressInfo).port,
      app,
      reset: (fixture?: string) => app.kraken.reset(fixture),
      close: () => {
        closing ??= (async () => {
          if (redirect !== undefined) await new Promise<void>(resolve => redirect!.close(() => resolve()))
          await app.close()
        })()
        return closing
      }
    }
  } catch (error) {
    redirect?.close()
    await app.close()
    throw error
  }
}

function urlHost (host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/** The device's nginx answers plain HTTP with 301 to the HTTPS URL [ours]. */
async function listenRedirect (config: Config, httpsPort: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const hostHeader = (req.headers.host ?? urlHost(config.hostname ?? config.host)).replace(/:\d+$/, '')
    const location = `https://${hostHeader}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url ?? '/'}`
    res.writeHead(301, { location, server: 'nginx', 'content-type': 'text/html', 'content-length': '0' })
    res.end()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.httpPort, config.host, () => { server.off('error', reject); resolve() })
  })
  return server
}
