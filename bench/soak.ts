// `npm run soak`: mixed load (logins, reads, writes, stream start/stop, logouts) from 50
// connections against the emulator's CLI on a durable data file, for 60 s after a warm-up.
// Passes when: no transport error and no unexpected status; RSS at the end within 15 % of RSS
// after the warm-up; no event-loop delay above 100 ms (measured inside the server by
// bench/soak-probe.ts with monitorEventLoopDelay). Exits 1 otherwise. Not part of `npm test`.
//
//   npm run soak -- [--duration 60] [--warmup 10] [--connections 50] [--streams 1000 | --items 10000]
//                   [--transition-ms 50] [--cycles-per-session 10] [--malloc-arena-max 2] [--out <file>] [--tsx]
//
// A user logs in, runs `cycles-per-session` work cycles (about 10 requests each), and logs out.
// Every login is a deliberate scrypt of about 50 ms of CPU, so this ratio decides how much of
// the machine goes to password hashing: at 3 cycles per session 50 users log in about 40 times
// a second, which is two cores' worth of scrypt on its own.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadOrCreateCertificate } from '../src/tls/certificate.ts'
import { prepareLaunchers } from './build.ts'
import { describeMachine, describeRevision } from './machine.ts'
import type { ProbeStats } from './soak-probe.ts'
import { runUser, type Tally } from './soak-user.ts'
import { seedStore, writeDataFile } from './seed-db.ts'
import { REPO_ROOT, emulatorArgs, memoryOf, spawnServer, type ServerProcess } from './spawn-server.ts'

interface Options { durationS: number, warmupS: number, connections: number, streams: number, transitionMs: number, cyclesPerSession: number, out: string | undefined, tsx: boolean, arenaMax: number }

const LIMITS = { rssGrowth: 0.15, eventLoopDelayMs: 100 }

function parseOptions (argv: readonly string[]): Options {
  const options: Options = { durationS: 60, warmupS: 10, connections: 50, streams: 1000, transitionMs: 50, cyclesPerSession: 10, out: undefined, tsx: false, arenaMax: 2 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const number = (): number => {
      const n = Number(argv[++i])
      if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`${arg} expects a number`)
      return n
    }
    if (arg === '--help') {
      process.stdout.write('usage: npm run soak -- [--duration 60] [--warmup 10] [--connections 50] [--streams 1000 | --items 10000] [--transition-ms 50] [--cycles-per-session 10] [--malloc-arena-max 2] [--out <file>] [--tsx]\n(see bench/RESULTS.md)\n')
      process.exit(0)
    } else if (arg === '--duration') options.durationS = number()
    else if (arg === '--warmup') options.warmupS = number()
    else if (arg === '--connections') options.connections = Math.max(1, Math.round(number()))
    // --items: the stored items the 10,000-item soak speaks of are streams (each with its output).
    else if (arg === '--streams' || arg === '--items') options.streams = Math.max(1, Math.round(number()))
    else if (arg === '--malloc-arena-max') options.arenaMax = Math.round(number())
    else if (arg === '--transition-ms') options.transitionMs = Math.round(number())
    else if (arg === '--cycles-per-session') options.cyclesPerSession = Math.max(1, Math.round(number()))
    else if (arg === '--out') options.out = argv[++i]
    else if (arg === '--tsx') options.tsx = true
    else throw new Error(`unknown argument ${arg}; see the header of bench/soak.ts`)
  }
  return options
}

/** Asks the probe inside the server for its numbers (and optionally resets the delay histogram). */
function probe (server: ServerProcess, message: 'stats' | 'reset'): Promise<ProbeStats> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the soak probe did not answer')), 10_000)
    server.child.once('message', (stats: unknown) => {
      clearTimeout(timer)
      resolve(stats as ProbeStats)
    })
    server.child.send(message)
  })
}

async function main (): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const machine = describeMachine()
  const startedAt = new Date()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kraken-soak-'))
  let server: ServerProcess | undefined
  try {
    const launchers = await prepareLaunchers(options.tsx ? 'tsx' : 'dist', path.join(dir, 'build'))
    const tls = await loadOrCreateCertificate({ certsDir: path.join(dir, 'certs') })
    const seeded = await seedStore({ streams: options.streams, freeOutputs: options.connections })
    const data = path.join(dir, 'kraken.json')
    await writeDataFile(data, seeded.db)
    server = await spawnServer({
      ...launchers.emulator,
      imports: [launchers.probe],
      // Only so the probe can report the heap after a full GC next to RSS; nothing else calls gc().
      nodeFlags: ['--expose-gc'],
      // As the Docker image runs it (README "Memory"); 0 leaves glibc's default (8 per core).
      ...(options.arenaMax > 0 && { env: { MALLOC_ARENA_MAX: String(options.arenaMax) } }),
      ipc: true,
      args: emulatorArgs(data, path.join(dir, 'certs'), ['--transition-ms', String(options.transitionMs)]),
      timeoutMs: 180_000
    })
    const tally: Tally = { ops: new Map(), unexpected: [], errors: [], counts: { unexpected: 0, errors: 0 } }
    let over = false
    const users = Array.from({ length: options.connections }, (_, index) => runUser({
      url: server!.ready.url, ca: tls.cert, seeded, output: seeded.freeOutputIds[index]!, index, tally, cyclesPerSession: options.cyclesPerSession, done: () => over
    }))
    process.stderr.write(`soak: ${options.connections} users against ${options.streams} stored streams; warm-up ${options.warmupS} s\n`)
    await sleep(options.warmupS * 1000)
    const warm = await memoryOf(server.ready.pid)
    const warmProbe = await probe(server, 'reset')
    const opsAtWarm = total(tally)
    process.stderr.write(`soak: warm (RSS ${warm.rssMb.toFixed(1)} MB); measuring ${options.durationS} s\n`)
    await sleep(options.durationS * 1000)
    const end = await memoryOf(server.ready.pid)
    const stats = await probe(server, 'stats')
    const opsMeasured = total(tally) - opsAtWarm
    over = true
    await Promise.all(users)
    const exit = await server.stop()

    const growth = (end.rssMb - warm.rssMb) / warm.rssMb
    const checks = [
      { name: 'no transport error', ok: tally.counts.errors === 0, value: String(tally.counts.errors) },
      { name: 'no unexpected status', ok: tally.counts.unexpected === 0, value: String(tally.counts.unexpected) },
      { name: `RSS at the end within ${LIMITS.rssGrowth * 100} % of RSS after warm-up`, ok: Math.abs(growth) <= LIMITS.rssGrowth, value: `${warm.rssMb.toFixed(1)} -> ${end.rssMb.toFixed(1)} MB (${(growth * 100).toFixed(1)} %)` },
      { name: `no event-loop delay above ${LIMITS.eventLoopDelayMs} ms`, ok: stats.maxMs <= LIMITS.eventLoopDelayMs, value: `max ${stats.maxMs.toFixed(1)} ms, p99 ${stats.p99Ms.toFixed(1)} ms, mean ${stats.meanMs.toFixed(1)} ms; longest stalls ${list(stats.stallsMs)}; longest GC pauses ${list(stats.gcPausesMs)}` },
      { name: 'clean stop afterwards', ok: exit.code === 0, value: `exit code ${exit.code}` }
    ]
    const heap = warmProbe.heapAfterGcMb === undefined || stats.heapAfterGcMb === undefined
      ? 'not measured'
      : `${warmProbe.heapAfterGcMb.toFixed(1)} -> ${stats.heapAfterGcMb.toFixed(1)} MB`
    const passed = checks.every(c => c.ok)
    const lines = [
      `## Soak of ${startedAt.toISOString()}: ${passed ? 'PASSED' : 'FAILED'}`, '',
      `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, ${machine.os}, Node ${machine.node}; load average before ${machine.loadAverage.join(', ')}, after ${os.loadavg().map(n => n.toFixed(2)).join(', ')}`,
      `- Command: \`npm run soak -- ${process.argv.slice(2).join(' ')}\` at ${describeRevision(REPO_ROOT)}; ${options.connections} connections, ${options.streams} stored streams, transitions of ${options.transitionMs} ms, ${options.cyclesPerSession} work cycles per login, MALLOC_ARENA_MAX ${options.arenaMax > 0 ? options.arenaMax : 'unset'}, ${options.warmupS} s warm-up then ${options.durationS} s measured; emulator: ${options.tsx ? 'src/cli.ts through tsx' : 'node dist/cli.js (built afresh)'}`,
      `- ${opsMeasured.toLocaleString('en-US')} requests in the measured ${options.durationS} s (${Math.round(opsMeasured / options.durationS).toLocaleString('en-US')}/s)`,
      `- Heap in use after a full GC, after warm-up -> at the end (a leak shows here; RSS also holds memory the allocators keep): ${heap}`, '',
      '| check | result | measured |', '|---|---|---|',
      ...checks.map(c => `| ${c.name} | ${c.ok ? 'pass' : '**FAIL**'} | ${c.value} |`), '',
      '| operation | count |', '|---|---:|',
      ...[...tally.ops].sort((a, b) => b[1] - a[1]).map(([op, n]) => `| ${op} | ${n.toLocaleString('en-US')} |`)
    ]
    if (tally.unexpected.length + tally.errors.length > 0) lines.push('', 'First problems:', '', ...[...tally.unexpected, ...tally.errors].map(l => `- ${l}`))
    const markdown = lines.join('\n') + '\n'
    const out = options.out ?? path.join(REPO_ROOT, 'bench', 'out', `soak-${startedAt.toISOString().replace(/[:.]/g, '-')}.md`)
    await mkdir(path.dirname(out), { recursive: true })
    await writeFile(out, markdown)
    process.stdout.write('\n' + markdown + `\n(written to ${out})\n`)
    process.exitCode = passed ? 0 : 1
  } finally {
    await server?.kill()
    await rm(dir, { recursive: true, force: true })
  }
}

function list (ms: readonly number[]): string {
  return ms.length === 0 ? 'none' : ms.map(n => `${Math.round(n)} ms`).join(', ')
}

function total (tally: Tally): number {
  let n = 0
  for (const count of tally.ops.values()) n += count
  return n
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
