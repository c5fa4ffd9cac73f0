// `npx tsx bench/login-flood.ts`: how long a correct login waits while others flood the login
// route (issue 13). The emulator runs as in production (built, `node dist/cli.js`, default
// options, in memory) in a child process; this process plays both the flood and the user:
// - `flooders` connections each send logins one after the other, without pause, as long as the
//   measurement lasts (an answer, 401 or 429, is followed at once by the next login): first for
//   names that do not exist, then with wrong passwords for one existing account (operator);
// - meanwhile the user logs in as haiadmin with the right password `samples` times in a row, on
//   its own connection opened beforehand (as a keep-alive client has it), and each login's
//   latency (request sent to 204 received) is recorded;
// - and the attack as first seen: one burst of `flooders` logins for unknown names at once, each
//   on a new connection, and the user's correct login 500 ms later (`samples` times).
// A quiet baseline (no flood) is measured first the same way.
//
//   npx tsx bench/login-flood.ts [--flooders 300] [--samples 10] [--tsx]
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, request } from 'undici'
import { loadOrCreateCertificate } from '../src/tls/certificate.ts'
import { prepareLaunchers } from './build.ts'
import { describeMachine, describeRevision } from './machine.ts'
import { REPO_ROOT, spawnServer, type ServerProcess } from './spawn-server.ts'

interface Options { flooders: number, samples: number, tsx: boolean }

function parseOptions (argv: readonly string[]): Options {
  const options: Options = { flooders: 300, samples: 10, tsx: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--flooders') options.flooders = Number(argv[++i])
    else if (arg === '--samples') options.samples = Number(argv[++i])
    else if (arg === '--tsx') options.tsx = true
    else throw new Error(`unknown argument ${arg}; see the header of bench/login-flood.ts`)
  }
  return options
}

async function login (url: string, agent: Agent, username: string, password: string): Promise<number> {
  const res = await request(`${url}/apis/v2/login`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
  await res.body.dump()
  return res.statusCode
}

/** A client with its one connection already open (TLS handshake done), as a keep-alive client has. */
async function connectedAgent (url: string, ca: string): Promise<Agent> {
  const agent = new Agent({ connect: { ca, servername: 'localhost' }, connections: 1 })
  const res = await request(`${url}/_emulator/health`, { dispatcher: agent })
  await res.body.dump()
  return agent
}

/** `samples` correct logins in a row on an open connection; their latencies in ms. */
async function measure (url: string, ca: string, samples: number, ready?: Agent): Promise<number[]> {
  const agent = ready ?? await connectedAgent(url, ca)
  const latencies: number[] = []
  try {
    for (let i = 0; i < samples; i++) {
      const start = performance.now()
      const status = await login(url, agent, 'haiadmin', 'krakenapi')
      latencies.push(performance.now() - start)
      if (status !== 204) throw new Error(`the correct login answered ${status}`)
    }
  } finally {
    await agent.close()
  }
  return latencies
}

interface Flood { statuses: Map<number, number>, stop: () => Promise<void>, errors: Map<string, number> }

/** `count` connections, each sending logins back to back until stopped. */
function flood (url: string, ca: string, count: number, body: (i: number) => { username: string, password: string }): Flood {
  const agent = new Agent({ connect: { ca, servername: 'localhost' }, connections: count, pipelining: 1 })
  const statuses = new Map<number, number>()
  const state: Flood = { statuses, errors: new Map(), stop: async () => {} }
  let running = true
  let n = 0
  const loops = Array.from({ length: count }, async () => {
    while (running) {
      const { username, password } = body(n++)
      try {
        const status = await login(url, agent, username, password)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
        state.errors.set(code, (state.errors.get(code) ?? 0) + 1)
      }
    }
  })
  state.stop = async () => {
    running = false
    await Promise.all(loops)
    await agent.close()
  }
  return state
}

/**
 * The attack of issue 13: `count` logins for unknown names at once, each on its own connection;
 * a correct login 500 ms later on a connection opened before. Resolves when all are answered.
 */
async function burstOnce (url: string, ca: string, count: number): Promise<number> {
  const agent = new Agent({ connect: { ca, servername: 'localhost' }, connections: count })
  const user = await connectedAgent(url, ca)
  try {
    const sent = Array.from({ length: count }, (_, i) => login(url, agent, `ghost-${i}`, 'guess').catch(() => 0))
    await new Promise(resolve => setTimeout(resolve, 500))
    const [latency] = await measure(url, ca, 1, user)
    await Promise.all(sent)
    return latency!
  } finally {
    await agent.close()
  }
}

const summary = (ms: number[]): string => {
  const sorted = [...ms].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return `median ${at(0.5).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (${ms.map(v => v.toFixed(0)).join(', ')})`
}

async function main (): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const machine = describeMachine()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kraken-flood-'))
  let server: ServerProcess | undefined
  try {
    const launchers = await prepareLaunchers(options.tsx ? 'tsx' : 'dist', path.join(dir, 'build'))
    const certs = path.join(dir, 'certs')
    const tls = await loadOrCreateCertificate({ certsDir: certs })
    server = await spawnServer({ ...launchers.emulator, args: ['--port', '0', '--print-ready', 'json', '--in-memory', '--certs', certs, '--log-level', 'warn'], timeoutMs: 180_000 })
    const url = server.ready.url
    const lines = [
      `## Login flood of ${new Date().toISOString()}`, '',
      `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}, Node ${machine.node}; load average before ${machine.loadAverage.join(', ')}`,
      `- At ${describeRevision(REPO_ROOT)}; emulator ${options.tsx ? 'src/cli.ts through tsx' : 'node dist/cli.js'} with default options; ${options.flooders} flooding connections, ${options.samples} correct haiadmin logins per case`, ''
    ]
    const say = (line: string) => { lines.push(line); process.stderr.write(line + '\n') }
    await measure(url, tls.cert, 2) // warm-up: JIT, the first TLS session
    say(`- quiet: ${summary(await measure(url, tls.cert, options.samples))}`)
    const burst: number[] = []

    for (let i = 0; i < options.samples; i++) burst.push(await burstOnce(url, tls.cert, options.flooders))
    say(`- one burst of ${options.flooders} logins for unknown names, the correct login sent 500 ms after it: ${summary(burst)}`)

    for (const [what, body] of [
      ['unknown names', (i: number) => ({ username: `ghost-${i}`, password: 'guess' })],
      ['wrong passwords for operator', (i: number) => ({ username: 'operator', password: `guess-${i}` })]
    ] as const) {
      const user = await connectedAgent(url, tls.cert)
      const running = flood(url, tls.cert, options.flooders, body)
      // Let every flooding connection open and the queues fill before measuring.
      await new Promise(resolve => setTimeout(resolve, 3000))
      const latencies = await measure(url, tls.cert, options.samples, user)
      await running.stop()
      const answers = [...running.statuses].map(([status, count]) => `${count} x ${status}`).join(', ')
      const errors = [...running.errors].map(([code, count]) => `${count} x ${code}`).join(', ')
      say(`- sustained flood of ${what}: ${summary(latencies)}; the flood got ${answers}${errors === '' ? '' : `, transport errors ${errors}`}`)
    }
    process.stdout.write('\n' + lines.join('\n') + '\n')
  } finally {
    await server?.kill()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
