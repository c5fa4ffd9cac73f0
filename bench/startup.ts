// Start-to-first-login time of an in-process emulator, the number docs/test-fixture.md reports.
//
//   npx tsx bench/startup.ts [--runs 30] [--json]
//
// Each run does what a test suite's `before` hook does: startEmulator({ port: 0, inMemory: true })
// and one successful login over real HTTPS (trusting the emulator's own certificate), then closes
// it. The first run also pays for loading modules and JIT warm-up; it is reported apart ("cold")
// and left out of the median. A second pass times the phases that startEmulator chains (certificate,
// buildApp with its fixture load and password hashing, Fastify's ready (compiling every route's
// validators and response serializers), listen, first login) to show where the time goes.
import { performance } from 'node:perf_hooks'
import os from 'node:os'
import { Agent, request } from 'undici'
import { startEmulator } from '../src/start-emulator.ts'
import { buildApp } from '../src/app.ts'
import { loadOrCreateCertificate } from '../src/tls/certificate.ts'
import { loadFixture } from '../src/fixtures.ts'
import { hashPassword } from '../src/auth/passwords.ts'

interface Options { runs: number, json: boolean }

function parseArgs (argv: string[]): Options {
  const options: Options = { runs: 30, json: false }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') options.runs = Number(argv[++i])
    else if (argv[i] === '--json') options.json = true
    else throw new Error(`unknown argument ${argv[i]} (use --runs N, --json)`)
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs expects a positive whole number')
  return options
}

async function login (url: string, ca: string): Promise<void> {
  const agent = new Agent({ connect: { ca } })
  try {
    const res = await request(`${url}/apis/v2/login`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' })
    })
    await res.body.dump()
    if (res.statusCode !== 204) throw new Error(`login answered ${res.statusCode}`)
  } finally {
    await agent.close()
  }
}

/** One start-to-first-login, through the public API only. */
async function startToLogin (): Promise<number> {
  const t0 = performance.now()
  const kraken = await startEmulator({ port: 0, fixture: 'default', inMemory: true, logLevel: 'silent' })
  try {
    await login(kraken.url, kraken.certificate)
    return performance.now() - t0
  } finally {
    await kraken.close()
  }
}

type Phase = 'certificate' | 'fixture load' | 'scrypt hash' | 'buildApp (incl. fixture + hash)' | 'ready (compile route schemas)' | 'listen' | 'first login (incl. scrypt verify)'

/** The same steps as startEmulator, timed one by one (fixture load and hashing also on their own). */
async function phases (): Promise<Record<Phase, number>> {
  const time = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
    const t0 = performance.now()
    const value = await fn()
    return [value, performance.now() - t0]
  }
  const [tls, certificate] = await time(() => loadOrCreateCertificate({ inMemory: true }))
  const [, fixtureLoad] = await time(() => loadFixture('default'))
  const [, hash] = await time(() => hashPassword('krakenapi'))
  const [app, build] = await time(() => buildApp({ inMemory: true, logLevel: 'silent' }, { tls }))
  try {
    const [, ready] = await time(() => app.ready())
    const [, listen] = await time(() => app.listen({ host: '127.0.0.1', port: 0, listenTextResolver: () => '' }))
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening on a port')
    const [, firstLogin] = await time(() => login(`https://127.0.0.1:${address.port}`, tls.cert))
    return {
      certificate,
      'fixture load': fixtureLoad,
      'scrypt hash': hash,
      'buildApp (incl. fixture + hash)': build,
      'ready (compile route schemas)': ready,
      listen,
      'first login (incl. scrypt verify)': firstLogin
    }
  } finally {
    await app.close()
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

async function main (): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const cold = await startToLogin()
  const totals: number[] = []
  for (let i = 0; i < options.runs; i++) totals.push(await startToLogin())
  const split: Partial<Record<Phase, number[]>> = {}
  for (let i = 0; i < options.runs; i++) {
    for (const [name, ms] of Object.entries(await phases()) as Array<[Phase, number]>) (split[name] ??= []).push(ms)
  }

  const cpus = os.cpus()
  const machine = `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`
  // The machine may be shared: say how busy it was, since that moves every number here.
  const load = os.loadavg().map(l => l.toFixed(2)).join(' ')
  const result = {
    machine,
    loadAverage: load,
    runs: options.runs,
    coldMs: round(cold),
    medianMs: round(median(totals)),
    p90Ms: round(percentile(totals, 0.9)),
    minMs: round(Math.min(...totals)),
    maxMs: round(Math.max(...totals)),
    phasesMedianMs: Object.fromEntries(Object.entries(split).map(([name, values]) => [name, round(median(values))]))
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(result) + '\n')
    return
  }
  process.stdout.write(`machine: ${machine}; load average at the end: ${load}\n`)
  process.stdout.write(`start to first login, ${options.runs} runs in one process (after one cold run of ${result.coldMs} ms):\n`)
  process.stdout.write(`  median ${result.medianMs} ms, p90 ${result.p90Ms} ms, min ${result.minMs} ms, max ${result.maxMs} ms\n`)
  process.stdout.write('phases (median of each):\n')
  for (const [name, ms] of Object.entries(result.phasesMedianMs)) process.stdout.write(`  ${name.padEnd(36)} ${ms} ms\n`)
}

function round (ms: number): number {
  return Math.round(ms * 10) / 10
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/startup: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
