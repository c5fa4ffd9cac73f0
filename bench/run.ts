// `npm run bench`: the emulator against the ceiling of its stack (bench/bare-server.ts) and the
// naive write-path floor (bench/naive-lowdb-server.ts), interleaved in one run, at each store
// size. Every server is a child process started the same way (`node --import tsx <entry>`); the
// emulator is its CLI on a real data file over HTTPS, as a user runs it. The load generator
// (autocannon) runs here. Prints a Markdown report and writes it to bench/out/.
//
//   npm run bench -- [--sizes 100,10000] [--duration 5] [--rounds 2] [--warmup 2] [--connections 50]
//                    [--cold-starts 5] [--post-pool 40000] [--malloc-arena-max 2] [--out <file>] [--keep] [--tsx] [--journal] [--live]
//
// --journal measures the request log's cost instead: the emulator with its log on (the default)
// against the same build with `--journal-size 0`, interleaved the same way, GET list, GET item
// and POST at each size (bench/journal-report.ts renders it).
//
// --live measures the live page's cost instead (issue 17): GET item on one emulator with 50 pages'
// event streams (/ui/events) open against none, interleaved the same way, and the heap of an
// in-process emulator before, with and after the pages (bench/live-report.ts renders it).
//
// Each scenario is measured `rounds` times per server, the servers' order rotating every round,
// so a burst of load from elsewhere on the machine hits all of them alike.
//
// The emulator runs as `node dist/cli.js`, built afresh into the work directory; see bench/build.ts.
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { loadOrCreateCertificate } from '../src/tls/certificate.ts'
import { prepareLaunchers, type Launchers } from './build.ts'
import { BenchClient } from './http.ts'
import { combine, measure, type Measurement, type Scenario } from './load.ts'
import { describeMachine, describeRevision } from './machine.ts'
import { renderReport, type RunHeader, type ScenarioName, type ServerKind, type SizeResult } from './report.ts'
import { renderJournalReport, type JournalKind, type JournalSizeResult } from './journal-report.ts'
import { renderLiveReport, type LiveKind, type LiveSizeResult } from './live-report.ts'
import { openLivePages } from './live-pages.ts'
import { liveHeap } from './live-memory.ts'
import { seedStore, streamBody, writeDataFile, type SeededStore } from './seed-db.ts'
import { REPO_ROOT, emulatorArgs, memoryOf, spawnServer, type ServerProcess } from './spawn-server.ts'

interface Options { sizes: number[], durationS: number, rounds: number, warmupS: number, connections: number, coldStarts: number, postPool: number, out: string | undefined, keep: boolean, tsx: boolean, journal: boolean, arenaMax: number, live: boolean }

function parseOptions (argv: readonly string[]): Options {
  const options: Options = { sizes: [100, 10_000], durationS: 5, rounds: 2, warmupS: 2, connections: 50, coldStarts: 5, postPool: 40_000, out: undefined, keep: false, tsx: false, journal: false, arenaMax: 2, live: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const next = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    const positive = (v: string): number => {
      const n = Number(v)
      if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${arg} expects a positive number (got ${v})`)
      return n
    }
    if (arg === '--help') {
      process.stdout.write('usage: npm run bench -- [--sizes 100,10000] [--duration 5] [--rounds 2] [--warmup 2] [--connections 50] [--cold-starts 5] [--post-pool 40000] [--malloc-arena-max 2] [--out <file>] [--keep] [--tsx] [--journal] [--live]\n(see bench/RESULTS.md)\n')
      process.exit(0)
    } else if (arg === '--sizes') options.sizes = next().split(',').map(s => Math.round(positive(s)))
    else if (arg === '--duration') options.durationS = positive(next())
    else if (arg === '--rounds') options.rounds = Math.round(positive(next()))
    else if (arg === '--warmup') options.warmupS = positive(next())
    else if (arg === '--connections') options.connections = Math.round(positive(next()))
    else if (arg === '--cold-starts') options.coldStarts = Math.round(positive(next()))
    else if (arg === '--post-pool') options.postPool = Math.round(positive(next()))
    else if (arg === '--out') options.out = next()
    else if (arg === '--keep') options.keep = true
    else if (arg === '--tsx') options.tsx = true
    else if (arg === '--journal') options.journal = true
    else if (arg === '--malloc-arena-max') options.arenaMax = Math.round(Number(next()))
    else if (arg === '--live') options.live = true
    else throw new Error(`unknown argument ${arg}; see the header of bench/run.ts`)
  }
  return options
}

interface Workspace { dir: string, certFile: string, keyFile: string, ca: string, launchers: Launchers }

async function main (): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  // Every server process (they inherit it) runs with the allocator setting the Docker image uses
  // (README "Memory"); 0 leaves glibc's default.
  if (options.arenaMax > 0) process.env.MALLOC_ARENA_MAX = String(options.arenaMax)
  const machine = describeMachine()
  const revision = describeRevision(REPO_ROOT)
  const startedAt = new Date()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-'))
  log(options.tsx ? 'bench: running the TypeScript sources through tsx' : 'bench: building the emulator (tsconfig.build.json) and the reference servers')
  const launchers = await prepareLaunchers(options.tsx ? 'tsx' : 'dist', path.join(dir, 'build'))
  // One certificate for all servers, so every TLS handshake costs the same.
  const tls = await loadOrCreateCertificate({ certsDir: path.join(dir, 'certs') })
  const ws: Workspace = { dir, certFile: tls.certFile!, keyFile: tls.keyFile!, ca: tls.cert, launchers }
  log(`bench: work directory ${dir}; ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}`)
  const sizes: SizeResult[] = []
  const journalSizes: JournalSizeResult[] = []
  const liveSizes: LiveSizeResult[] = []
  try {
    for (const streams of options.sizes) {
      if (options.live) liveSizes.push(await benchLiveSize(ws, streams, options))
      else if (options.journal) journalSizes.push(await benchJournalSize(ws, streams, options))
      else sizes.push(await benchSize(ws, streams, options))
    }
  } finally {
    if (!options.keep) await rm(dir, { recursive: true, force: true })
  }
  const header: RunHeader = {
    machine,
    loadAfter: os.loadavg().map(n => Math.round(n * 100) / 100),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    revision,
    startedAt,
    durationS: options.durationS,
    rounds: options.rounds,
    warmupS: options.warmupS,
    connections: options.connections
  }
  /** Writes the report to --out (or bench/out/bench[-kind]-<time>.md) and prints it. */
  const publish = async (kind: string, markdown: string): Promise<void> => {
    const out = options.out ?? path.join(REPO_ROOT, 'bench', 'out', `bench${kind}-${startedAt.toISOString().replace(/[:.]/g, '-')}.md`)
    await mkdir(path.dirname(out), { recursive: true })
    await writeFile(out, markdown)
    process.stdout.write('\n' + markdown + `\n(written to ${out})\n`)
  }
  if (options.live) {
    await publish('-live', renderLiveReport({ ...header, sizes: liveSizes }))
    return
  }
  if (options.journal) {
    await publish('-journal', renderJournalReport({ ...header, sizes: journalSizes }))
    return
  }
  await publish('', renderReport({
    ...header,
    launch: options.tsx ? 'every server through tsx (--tsx)' : 'the emulator built by tsconfig.build.json, run as `node dist/cli.js`; the references transpiled to plain JavaScript (no loader)',
    sizes
  }))
}

function log (line: string): void {
  process.stderr.write(line + '\n')
}

/**
 * The two data files of one store size: the read instance's, without the spare outputs (so its
 * memory is that of `streams` streams alone), and the POST instance's, with a pool of free outputs
 * (an output serves one stream, so each POSTed stream needs its own).
 */
async function writeSizeFiles (sizeDir: string, streams: number, postPool: number): Promise<{ seeded: Awaited<ReturnType<typeof seedStore>>, readsFile: string, writesFile: string }> {
  const seeded = await seedStore({ streams, freeOutputs: postPool })
  const pool = new Set(seeded.freeOutputIds)
  const readsDb = { ...seeded.db, collections: { ...seeded.db.collections, outputs: seeded.db.collections.outputs!.filter(o => !pool.has(String(o.uuid))) } }
  const readsFile = path.join(sizeDir, 'reads.json')
  const writesFile = path.join(sizeDir, 'writes.json')
  await writeDataFile(readsFile, readsDb)
  await writeDataFile(writesFile, seeded.db)
  return { seeded, readsFile, writesFile }
}

async function benchSize (ws: Workspace, streams: number, options: Options): Promise<SizeResult> {
  log(`\n== ${streams} stored streams`)
  const sizeDir = path.join(ws.dir, String(streams))
  const { seeded, readsFile, writesFile } = await writeSizeFiles(sizeDir, streams, options.postPool)
  const client = new BenchClient(ws.ca)
  const servers: ServerProcess[] = []
  try {
    // A first start fills tsx's compile cache and gives the bytes the references will serve.
    const bodiesFile = path.join(sizeDir, 'bodies.json')
    const first = await startEmulator(ws, await copyOf(readsFile, 'first'))
    const cookie = await client.login(first.ready.url)
    const itemId = seeded.streamIds[0]!
    const list = await client.send(`${first.ready.url}/apis/v2/streams`, 'GET', cookie)
    const item = await client.send(`${first.ready.url}/apis/v2/streams/stream-${itemId}`, 'GET', cookie)
    const full = await client.send(`${first.ready.url}/apis/v2/streams?full=true`, 'GET', cookie)
    for (const res of [list, item, full]) if (res.status !== 200) throw new Error(`emulator answered ${res.status}: ${res.text.slice(0, 300)}`)
    await writeFile(bodiesFile, JSON.stringify({ list: list.text, item: { id: itemId, body: item.text }, full: (JSON.parse(full.text) as { stream_list: unknown[] }).stream_list }))
    // A change and its undo, then a clean stop: the data file is then one the emulator wrote and
    // left (stamped), as a CI suite's repeated starts find it; its content is the seeded one.
    const putId = seeded.streamIds[1] ?? itemId
    const before = JSON.parse((await client.send(`${first.ready.url}/apis/v2/streams/stream-${putId}`, 'GET', cookie)).text) as { description?: unknown }
    for (const description of ['bench', before.description ?? '']) {
      const res = await client.send(`${first.ready.url}/apis/v2/streams/stream-${putId}`, 'PUT', cookie, { description })
      if (res.status !== 200) throw new Error(`emulator answered ${res.status}: ${res.text.slice(0, 300)}`)
    }
    await first.stop()
    const leftFile = path.join(sizeDir, 'first', 'kraken.json')
    await (await startReference(ws, 'bare', bodiesFile)).stop()

    const coldStartMs = { emulator: [] as number[], emulatorForeign: [] as number[], bare: [] as number[] }
    for (let i = 0; i < options.coldStarts; i++) {
      coldStartMs.emulator.push(await coldStart(client, () => startEmulator(ws, copyOf(leftFile, `cold-${i}`))))
      coldStartMs.bare.push(await coldStart(client, () => startReference(ws, 'bare', bodiesFile)))
      coldStartMs.emulatorForeign.push(await coldStart(client, () => startEmulator(ws, copyOf(readsFile, `cold-foreign-${i}`))))
    }
    log(`cold start ms: emulator ${coldStartMs.emulator.map(Math.round).join(' ')}; on a file it did not write ${coldStartMs.emulatorForeign.map(Math.round).join(' ')}; bare ${coldStartMs.bare.map(Math.round).join(' ')}`)
    const firstStart = options.tsx || streams !== options.sizes[0] ? undefined : await measureFirstStarts(ws, options.coldStarts)

    const emulator = await startEmulator(ws, await copyOf(leftFile, 'reads'))
    const emulatorWrites = await startEmulator(ws, await copyOf(writesFile, 'writes'))
    const bare = await startReference(ws, 'bare', bodiesFile)
    const naive = await startReference(ws, 'naive', bodiesFile, path.join(sizeDir, 'naive.json'))
    const jsonServer = await startReference(ws, 'jsonServer', bodiesFile, path.join(sizeDir, 'json-server.json'))
    servers.push(emulator, emulatorWrites, bare, naive, jsonServer)
    const readyRssMb = (await memoryOf(emulator.ready.pid)).rssMb
    await checkSameBytes(client, bare, list.text, item.text, itemId)

    const cookies = new Map<ServerProcess, string[]>()
    for (const s of servers) cookies.set(s, await client.sessions(s.ready.url, options.connections))

    const runs: SizeResult['runs'] = []
    const postState = { next: 0 }
    const postWarmup = Math.min(2_000, Math.floor(options.postPool / 10))
    // autocannon may build one request per connection beyond the count: keep that margin.
    const postBudget = { warmup: postWarmup, round: Math.floor((options.postPool - postWarmup - options.connections * (options.rounds + 1)) / options.rounds) }
    const readers: Array<[ServerKind, ServerProcess]> = [['emulator', emulator], ['bare', bare], ['naive', naive]]
    // json-server is the anchor for list, item and POST (its PUT replaces a whole item: not the same operation).
    const anchored: Array<[ServerKind, ServerProcess]> = [...readers, ['json-server', jsonServer]]
    const plan: Array<{ name: ScenarioName, scenario: (kind: ServerKind) => Scenario, servers: Array<[ServerKind, ServerProcess]> }> = [
      { name: 'GET list', scenario: () => ({ name: 'GET list', method: 'GET', path: '/apis/v2/streams' }), servers: anchored },
      { name: 'GET item', scenario: () => ({ name: 'GET item', method: 'GET', path: `/apis/v2/streams/stream-${itemId}` }), servers: anchored },
      { name: 'PUT', scenario: () => putScenario(putId), servers: readers },
      // The emulator's POSTs go to the instance with the pool of free outputs; its counter is
      // shared by warm-up and rounds so no output is used twice (see postBudget).
      { name: 'POST', scenario: kind => postScenario(seeded, kind === 'emulator' ? postState : { next: 0 }), servers: [['emulator', emulatorWrites], ['bare', bare], ['naive', naive], ['json-server', jsonServer]] }
    ]
    const restingRssMb = (await memoryOf(emulator.ready.pid)).rssMb
    for (const step of plan) {
      const rounds = new Map<ServerKind, Measurement[]>()
      for (let round = 0; round < options.rounds; round++) {
        const order = [...step.servers.slice(round % step.servers.length), ...step.servers.slice(0, round % step.servers.length)]
        for (const [kind, server] of order) {
          const scenario = step.scenario(kind)
          const base = { url: server.ready.url, cookies: cookies.get(server)! }
          // The emulator's POSTs each use up a free output: they run by count, sharing the pool.
          const counted = step.name === 'POST' && kind === 'emulator'
          if (round === 0) await measure(scenario, { ...base, durationS: options.warmupS, ...(counted ? { amount: postBudget.warmup } : {}) })
          const m = await measure(scenario, { ...base, durationS: options.durationS, ...(counted ? { amount: postBudget.round } : {}) })
          rounds.set(kind, [...(rounds.get(kind) ?? []), m])
          log(`${step.name.padEnd(8)} ${kind.padEnd(8)} round ${round + 1}: ${Math.round(m.rps).toString().padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  non-2xx ${m.non2xx}  errors ${m.errors}${m.non2xx > 0 ? ' ' + JSON.stringify(m.statuses) : ''}`)
        }
      }
      for (const [kind] of step.servers) runs.push({ scenario: step.name, server: kind, m: combine(rounds.get(kind)!) })
    }
    const afterPost = await client.send(`${emulatorWrites.ready.url}/apis/v2/streams`, 'GET', cookies.get(emulatorWrites)![0])
    const peakRssMb = {
      emulatorReady: readyRssMb,
      emulatorResting: restingRssMb,
      emulator: (await memoryOf(emulator.ready.pid)).peakRssMb,
      emulatorWrites: (await memoryOf(emulatorWrites.ready.pid)).peakRssMb,
      bare: (await memoryOf(bare.ready.pid)).peakRssMb,
      naive: (await memoryOf(naive.ready.pid)).peakRssMb,
      jsonServer: (await memoryOf(jsonServer.ready.pid)).peakRssMb
    }
    return {
      streams,
      listBytes: Buffer.byteLength(list.text),
      runs,
      coldStartMs,
      ...(firstStart !== undefined && { firstStart }),
      peakRssMb,
      streamsAfterPost: (JSON.parse(afterPost.text) as { stream_list: unknown[] }).stream_list.length
    }
  } finally {
    for (const s of servers) await s.stop()
    await client.close()
  }

  async function copyOf (file: string, name: string): Promise<string> {
    const dir = path.join(sizeDir, name)
    await mkdir(dir, { recursive: true })
    const copy = path.join(dir, 'kraken.json')
    await copyFile(file, copy)
    return copy
  }
}

/**
 * The request log's cost: two emulators of the same build, one with the log on (as shipped) and
 * one with `--journal-size 0`, for reads and two more (each with its own pool of free outputs)
 * for POST. Same interleaving as the main bench.
 */
async function benchJournalSize (ws: Workspace, streams: number, options: Options): Promise<JournalSizeResult> {
  log(`\n== ${streams} stored streams (request log on vs off)`)
  const sizeDir = path.join(ws.dir, String(streams))
  const { seeded, readsFile, writesFile } = await writeSizeFiles(sizeDir, streams, options.postPool)
  const copyOf = async (file: string, name: string): Promise<string> => {
    const dir = path.join(sizeDir, name)
    await mkdir(dir, { recursive: true })
    const copy = path.join(dir, 'kraken.json')
    await copyFile(file, copy)
    return copy
  }
  const client = new BenchClient(ws.ca)
  const servers: ServerProcess[] = []
  try {
    const off = ['--journal-size', '0']
    const readOn = await startEmulator(ws, copyOf(readsFile, 'reads-on'))
    const readOff = await startEmulator(ws, copyOf(readsFile, 'reads-off'), off)
    const writeOn = await startEmulator(ws, copyOf(writesFile, 'writes-on'))
    const writeOff = await startEmulator(ws, copyOf(writesFile, 'writes-off'), off)
    servers.push(readOn, readOff, writeOn, writeOff)
    const cookies = new Map<ServerProcess, string[]>()
    for (const s of servers) cookies.set(s, await client.sessions(s.ready.url, options.connections))
    const itemId = seeded.streamIds[0]!
    const postWarmup = Math.min(2_000, Math.floor(options.postPool / 10))
    const postBudget = { warmup: postWarmup, round: Math.floor((options.postPool - postWarmup - options.connections * (options.rounds + 1)) / options.rounds) }
    const postStates = new Map<ServerProcess, { next: number }>([[writeOn, { next: 0 }], [writeOff, { next: 0 }]])
    const readers: Array<[JournalKind, ServerProcess]> = [['log on', readOn], ['log off', readOff]]
    const plan: Array<{ name: ScenarioName, scenario: (server: ServerProcess) => Scenario, servers: Array<[JournalKind, ServerProcess]> }> = [
      { name: 'GET list', scenario: () => ({ name: 'GET list', method: 'GET', path: '/apis/v2/streams' }), servers: readers },
      { name: 'GET item', scenario: () => ({ name: 'GET item', method: 'GET', path: `/apis/v2/streams/stream-${itemId}` }), servers: readers },
      { name: 'POST', scenario: server => postScenario(seeded, postStates.get(server)!), servers: [['log on', writeOn], ['log off', writeOff]] }
    ]
    const runs: JournalSizeResult['runs'] = []
    for (const step of plan) {
      const rounds = new Map<JournalKind, Measurement[]>()
      const cpu = new Map<JournalKind, number[]>()
      for (let round = 0; round < options.rounds; round++) {
        const order = [...step.servers.slice(round % step.servers.length), ...step.servers.slice(0, round % step.servers.length)]
        for (const [kind, server] of order) {
          const scenario = step.scenario(server)
          const base = { url: server.ready.url, cookies: cookies.get(server)! }
          const counted = step.name === 'POST'
          if (round === 0) await measure(scenario, { ...base, durationS: options.warmupS, ...(counted ? { amount: postBudget.warmup } : {}) })
          const cpuBefore = await cpuMsOf(server.ready.pid)
          const m = await measure(scenario, { ...base, durationS: options.durationS, ...(counted ? { amount: postBudget.round } : {}) })
          const cpuUs = (await cpuMsOf(server.ready.pid) - cpuBefore) * 1000 / Math.max(1, m.requests)
          cpu.set(kind, [...(cpu.get(kind) ?? []), cpuUs])
          rounds.set(kind, [...(rounds.get(kind) ?? []), m])
          log(`cpu ${Math.round(cpuUs)} us/request  ${step.name.padEnd(8)} ${kind.padEnd(8)} round ${round + 1}: ${Math.round(m.rps).toString().padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  non-2xx ${m.non2xx}  errors ${m.errors}${m.non2xx > 0 ? ' ' + JSON.stringify(m.statuses) : ''}`)
        }
      }
      for (const [kind] of step.servers) runs.push({ scenario: step.name, server: kind, m: combine(rounds.get(kind)!), rounds: rounds.get(kind)!.map(r => r.rps), cpuUs: cpu.get(kind)! })
    }
    const rss = { logOn: (await memoryOf(readOn.ready.pid)).peakRssMb, logOff: (await memoryOf(readOff.ready.pid)).peakRssMb, postLogOn: (await memoryOf(writeOn.ready.pid)).peakRssMb, postLogOff: (await memoryOf(writeOff.ready.pid)).peakRssMb }
    return { streams, runs, peakRssMb: rss }
  } finally {
    for (const s of servers) await s.stop()
    await client.close()
  }
}

/** Live pages open on the emulator while GET item is measured. */
const LIVE_PAGES = 50

/**
 * The live page's cost (issue 17, acceptance 4): GET item on one emulator, rounds alternating
 * between no page and LIVE_PAGES event streams open (opened before and closed after each such
 * round, so each "no pages" round also shows that closing them gave everything back).
 */
async function benchLiveSize (ws: Workspace, streams: number, options: Options): Promise<LiveSizeResult> {
  log(`\n== ${streams} stored streams (${LIVE_PAGES} live pages open vs none)`)
  const sizeDir = path.join(ws.dir, String(streams))
  const { seeded, readsFile } = await writeSizeFiles(sizeDir, streams, 0)
  const dir = path.join(sizeDir, 'live')
  await mkdir(dir, { recursive: true })
  const data = path.join(dir, 'kraken.json')
  await copyFile(readsFile, data)
  const client = new BenchClient(ws.ca)
  const emulator = await startEmulator(ws, data)
  try {
    const cookies = await client.sessions(emulator.ready.url, options.connections)
    const pageCookies = await client.sessions(emulator.ready.url, LIVE_PAGES)
    const scenario: Scenario = { name: 'GET item', method: 'GET', path: `/apis/v2/streams/stream-${seeded.streamIds[0]!}` }
    const base = { url: emulator.ready.url, cookies }
    const kinds: LiveKind[] = ['no pages', 'pages open']
    const rounds = new Map<LiveKind, Measurement[]>()
    const cpu = new Map<LiveKind, number[]>()
    let eventBytes = 0
    await measure(scenario, { ...base, durationS: options.warmupS })
    for (let round = 0; round < options.rounds * 2; round++) {
      const kind = kinds[(round + Math.floor(round / 2)) % 2]!
      const pages = kind === 'pages open' ? await openLivePages(ws.ca, emulator.ready.url, pageCookies) : undefined
      const bytesBefore = pages?.bytes() ?? 0
      const cpuBefore = await cpuMsOf(emulator.ready.pid)
      const m = await measure(scenario, { ...base, durationS: options.durationS })
      const cpuUs = (await cpuMsOf(emulator.ready.pid) - cpuBefore) * 1000 / Math.max(1, m.requests)
      if (pages !== undefined) {
        eventBytes += (pages.bytes() - bytesBefore) / LIVE_PAGES
        await pages.close()
      }
      rounds.set(kind, [...(rounds.get(kind) ?? []), m])
      cpu.set(kind, [...(cpu.get(kind) ?? []), cpuUs])
      log(`cpu ${Math.round(cpuUs)} us/request  GET item ${kind.padEnd(10)} round ${round + 1}: ${Math.round(m.rps).toString().padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  non-2xx ${m.non2xx}  errors ${m.errors}`)
    }
    const runs = kinds.map(kind => ({ server: kind, m: combine(rounds.get(kind)!), rounds: rounds.get(kind)!.map(r => r.rps), cpuUs: cpu.get(kind)! }))
    log('heap of an in-process emulator with and without the pages...')
    const heapMb = await liveHeap(LIVE_PAGES)
    return { streams, pages: LIVE_PAGES, runs, eventBytesPerPage: eventBytes / options.rounds, heapMb }
  } finally {
    await emulator.stop()
    await client.close()
  }
}

/**
 * CPU time (user + system, ms) a process has used, from /proc (clock ticks of 10 ms). Per request
 * it is the cost measure that load from elsewhere on the machine disturbs least: req/s falls when
 * another process takes the CPU, the CPU a request needs does not.
 */
async function cpuMsOf (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function startEmulator (ws: Workspace, data: string | Promise<string>, extra: readonly string[] = []): Promise<ServerProcess> {
  return Promise.resolve(data).then(file => spawnServer({
    ...ws.launchers.emulator,
    args: emulatorArgs(file, path.join(ws.dir, 'certs'), ['--cert', ws.certFile, '--key', ws.keyFile, '--transition-ms', '0', ...extra]),
    timeoutMs: 180_000
  }))
}

/** startEmulator() and a bare Fastify HTTPS server, import to ready, each in `runs` fresh processes (bench/first-start.ts). */
async function measureFirstStarts (ws: Workspace, runs: number): Promise<NonNullable<SizeResult['firstStart']>> {
  const script = path.join(path.dirname(ws.launchers.bare.entry), 'first-start.js')
  const index = path.join(path.dirname(ws.launchers.emulator.entry), 'index.js')
  const once = async (args: string[]): Promise<{ firstMs: number, laterMs: number[] }> => {
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args, '--cert', ws.certFile, '--key', ws.keyFile, '--later', '3'], { cwd: REPO_ROOT })
    return JSON.parse(stdout) as { firstMs: number, laterMs: number[] }
  }
  const result = { emulatorMs: [] as number[], bareMs: [] as number[], laterMs: [] as number[] }
  for (let i = 0; i < runs; i++) {
    const emulator = await once(['--emulator', index])
    result.emulatorMs.push(emulator.firstMs)
    result.laterMs.push(...emulator.laterMs)
    result.bareMs.push((await once(['--bare'])).firstMs)
  }
  log(`startEmulator() import to ready ms: ${result.emulatorMs.map(Math.round).join(' ')}; later ${result.laterMs.map(Math.round).join(' ')}; bare ${result.bareMs.map(Math.round).join(' ')}`)
  return result
}

function startReference (ws: Workspace, kind: 'bare' | 'naive' | 'jsonServer', bodies: string, data?: string): Promise<ServerProcess> {
  return spawnServer({ ...ws.launchers[kind], args: ['--port', '0', '--cert', ws.certFile, '--key', ws.keyFile, '--bodies', bodies, ...(data === undefined ? [] : ['--data', data])], timeoutMs: 180_000 })
}

/** From spawning the process to the answer of its first successful login. */
async function coldStart (client: BenchClient, start: () => Promise<ServerProcess>): Promise<number> {
  const t0 = performance.now()
  const server = await start()
  try {
    await client.login(server.ready.url)
    return performance.now() - t0
  } finally {
    await server.stop()
  }
}

async function checkSameBytes (client: BenchClient, bare: ServerProcess, list: string, item: string, itemId: string): Promise<void> {
  const cookie = await client.login(bare.ready.url)
  const bareList = await client.send(`${bare.ready.url}/apis/v2/streams`, 'GET', cookie)
  const bareItem = await client.send(`${bare.ready.url}/apis/v2/streams/stream-${itemId}`, 'GET', cookie)
  if (bareList.text !== list || bareItem.text !== item) throw new Error('the bare server does not return the bytes the emulator returned')
}

function putScenario (id: string): Scenario {
  let n = 0
  return { name: 'PUT', method: 'PUT', path: `/apis/v2/streams/stream-${id}`, body: () => JSON.stringify({ description: `bench update ${n++}` }) }
}

/** Each POST takes the next free output: an output serves one stream (kraken-api.md section 5). */
function postScenario (seeded: SeededStore, state = { next: 0 }): Scenario {
  return {
    name: 'POST',
    method: 'POST',
    path: '/apis/v2/streams',
    body: () => {
      const i = state.next++
      const output = seeded.freeOutputIds[i % seeded.freeOutputIds.length]!
      return JSON.stringify(streamBody(`bench post ${i}`, seeded, output))
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
