// The container engine for `npm run test:container`: podman, as this project's machines have it
// (Debian's, installed with the base image by ../shared/tools/node-base-image.sh). Every container
// and volume a test makes carries PREFIX in its name, so its teardown removes exactly those.
import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { createServer } from 'node:net'
import { connect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { ROOT, run, type RunResult } from '../test/helpers/examples.ts'

export { ROOT }

/** Names of this run's containers and volumes: kraken-ct-<pid>-<what>. */
export const PREFIX = `kraken-ct-${process.pid}`
export const IMAGE = 'localhost/kraken-emulator:test'

/** The Dockerfile's NODE_IMAGE default without its digest: the local stand-in has none. */
export function nodeImage (): string {
  const dockerfile = readFileSync(ROOT + 'Dockerfile', 'utf8')
  const value = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]
  if (value === undefined) throw new Error('the Dockerfile has no ARG NODE_IMAGE=<default>')
  return value.replace(/@sha256:[0-9a-f]{64}$/, '')
}

export async function podman (args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return await run('podman', args, { cwd: ROOT, timeoutMs })
}

/** Runs podman and returns its trimmed stdout; a non-zero exit is an error that carries stderr. */
export async function must (args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs)
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
  return result.stdout.trim()
}

/**
 * Runs the image's own HEALTHCHECK (`podman healthcheck run`: no systemd here schedules it) until it
 * passes. Returns how many runs that took; throws when it never does, with the container's log.
 */
export async function waitHealthy (name: string, attempts = 120): Promise<number> {
  for (let i = 1; i <= attempts; i++) {
    const check = await podman(['healthcheck', 'run', name])
    if (check.code === 0) return i
    const state = await must(['inspect', '--format', '{{.State.Status}}', name])
    if (state !== 'running') break
    await sleep(1000) // a real container on the real clock: nothing to advance but time
  }
  const logs = await podman(['logs', name])
  throw new Error(`${name} never became healthy:\n${logs.stdout}${logs.stderr}`)
}

/** The host address and port podman published a container port on (`-p 127.0.0.1::8443`). */
export async function published (name: string, port = 8443): Promise<string> {
  const line = (await must(['port', name, `${port}/tcp`])).split('\n')[0] ?? ''
  if (!/^127\.0\.0\.1:\d+$/.test(line)) throw new Error(`${name}: unexpected published address '${line}'`)
  return line
}

/** A client of one emulator in a container, trusting the certificate the container generated. */
export class Client {
  readonly agent: Agent
  cookie = ''
  constructor (readonly base: string, ca: string, servername?: string) {
    this.agent = new Agent({ connect: servername === undefined ? { ca } : { ca, servername } })
  }

  static async of (name: string, address?: string): Promise<Client> {
    const ca = await must(['exec', name, 'cat', '/certs/cert.pem'])
    return new Client(`https://${address ?? await published(name)}`, ca)
  }

  async call (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { body?: unknown, headers?: Record<string, string> } = {}): Promise<{ status: number, body: string, headers: Record<string, unknown> }> {
    const headers: Record<string, string> = { ...options.headers }
    if (this.cookie !== '') headers.cookie = this.cookie
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const res = await request(this.base + path, {
      method, headers, dispatcher: this.agent, body: options.body === undefined ? undefined : JSON.stringify(options.body)
    })
    return { status: res.statusCode, body: await res.body.text(), headers: res.headers }
  }

  async login (username = 'haiadmin', password = 'krakenapi', headers: Record<string, string> = {}): Promise<number> {
    const res = await this.call('POST', '/apis/v2/login', { body: { username, password }, headers })
    const cookie = ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? []).find(c => c.startsWith('id='))
    if (cookie !== undefined) this.cookie = cookie.split(';')[0]!
    return res.status
  }

  async close (): Promise<void> { await this.agent.close() }
}

/** Removes every container, then every volume, whose name starts with PREFIX. */
export async function cleanUp (): Promise<void> {
  const containers = (await must(['ps', '-a', '--format', '{{.Names}}', '--filter', `name=^${PREFIX}`])).split('\n').filter(Boolean)
  if (containers.length > 0) await must(['rm', '-f', '-t', '0', ...containers])
  const volumes = (await must(['volume', 'ls', '--format', '{{.Name}}', '--filter', `name=^${PREFIX}`])).split('\n').filter(Boolean)
  if (volumes.length > 0) await must(['volume', 'rm', '-f', ...volumes])
}

/** A port free on 127.0.0.1 now (the kernel's pick), for podman to publish on. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** The certificate a TLS server presents for `servername`, as PEM (trust on first use: check its fingerprint). */
export async function presentedCertificate (host: string, port: number, servername: string): Promise<{ pem: string, fingerprint: string }> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw
      socket.end()
      const cert = new X509Certificate(raw)
      resolve({ pem: cert.toString(), fingerprint: cert.fingerprint256 })
    })
    socket.once('error', reject)
  })
}
