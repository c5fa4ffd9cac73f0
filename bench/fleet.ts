// `npm run bench:fleet`: a fleet of Krakens from one process (issue 18). Starts the CLI with
// `--devices N --device-addresses 127.0.1.1` (one address per device, as field clients reach
// them), measures the time to the ready line and the RSS, then sweeps every device the way a
// monitoring platform polls (logout, login, systeminfo, network, licence, streams, each stream's
// input, transcoder, outputs and metadata, metric snapshot, services, logout), `--concurrency`
// devices in flight, with the default password hash and with `--password-hash fast`. Peak RSS
// is the process's high-water mark (VmHWM) through the sweep.
//
//   npm run bench:fleet -- [--devices 1000] [--concurrency 50] [--tsx] [--out <file>]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, request } from 'undici'
import { prepareLaunchers } from './build.ts'
import { describeMachine, describeRevision } from './machine.ts'
import { REPO_ROOT, memoryOf, spawnServer } from './spawn-server.ts'

interface Options { devices: number, concurrency: number, tsx: boolean, out: string | undefined }

function parseOptions (argv: readonly string[]): Options {
  const options: Options = { devices: 1000, concurrency: 50, tsx: false, out: undefined }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = (): string => { const v = argv[++i]; if (v === undefined) throw new Error(`${arg} needs a value`); return v }
    if (arg === '--devices') options.devices = Number(value())
    else if (arg === '--concurrency') options.concurrency = Number(value())
    else if (arg === '--tsx') options.tsx = true
    else if (arg === '--out') options.out = value()
    else throw new Error(`unknown option ${arg} (usage: npm run bench:fleet -- [--devices 1000] [--concurrency 50] [--tsx] [--out <file>])`)
  }
  return options
}

interface ReadyLine { devices: Array<{ url: string }>, pid: number }
interface Run { hash: string, readyS: number, rssReadyMb: number, sweepS: number, devicesPerS: number, requests: number, peakRssMb: number, failures: string[] }

const JSON_HEADERS = { 'content-type': 'application/json' }

/** One device, polled as a monitoring platform does; answers the number of requests made. */
async function sweepDevice (dispatcher: Agent, url: string, failures: string[]): Promise<number> {
  let count = 0
  const get = async (p: string, cookie?: string): Promise<unknown> => {
    count++
    const res = await request(`${url}${p}`, { dispatcher, headers: cookie === undefined ? {} : { cookie } })
    const text = await res.body.text()
    if (res.statusCode >= 400 && !p.endsWith('/logout')) failures.push(`${url}${p}: ${res.statusCode}`)
    return text === '' ? undefined : JSON.parse(text)
  }
  await get('/apis/v2/logout')
  count++
  const login = await request(`${url}/apis/v2/login`, { dispatcher, method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' }) })
  await login.body.text()
  const id = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
  if (login.statusCode !== 204 || id === undefined) { failures.push(`${url} login: ${login.statusCode}`); return count }
  const cookie = `id=${id}`
  await get('/apis/v2/systeminfo', cookie)
  await get('/apis/v2/system/network', cookie)
  await get('/apis/v2/license', cookie)
  const listed = await get('/apis/v2/streams', cookie)
  const streams = (Array.isArray(listed) ? listed : Object.values(listed as object).find(Array.isArray) ?? []) as Array<{ input?: string, transcoder?: string | null, outputs?: string[], metadatas?: string[] }>
  for (const stream of streams) {
    if (typeof stream.input === 'string') await get(`/apis/v2/inputs/input-${stream.input}`, cookie)
    if (typeof stream.transcoder === 'string') await get(`/apis/v2/transcoders/transcoder-${stream.transcoder}`, cookie)
    for (const output of stream.outputs ?? []) await get(`/apis/v2/outputs/output-${output}`, cookie)
    for (const metadata of stream.metadatas ?? []) await get(`/apis/v2/metadata/metadata-${metadata}`, cookie)
  }
  await get('/apis/v2/system/metric/snapshot', cookie)
  await get('/apis/v2/system/services', cookie)
  await get('/apis/v2/logout', cookie)
  return count
}

async function runOnce (options: Options, hash: 'device' | 'fast', launch: { entry: string, loader: 'tsx' | 'none' }): Promise<Run> {
  const started = performance.now()
  const server = await spawnServer({
    ...launch,
    args: ['--devices', String(options.devices), '--device-addresses', '127.0.1.1', '--port', '0', '--in-memory', '--print-ready', 'json', '--log-level', 'warn', '--password-hash', hash],
    timeoutMs: 300_000
  })
  const readyS = (performance.now() - started) / 1000
  try {
    const ready = server.ready as unknown as ReadyLine
    const rssReadyMb = (await memoryOf(ready.pid)).rssMb
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false }, connections: 1, pipelining: 0 })
    const failures: string[] = []
    let next = 0
    let requests = 0
    const sweepStart = performance.now()
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      while (next < ready.devices.length) {
        const device = ready.devices[next++]!
        const made = await sweepDevice(dispatcher, device.url, failures)
        requests += made
      }
    }))
    const sweepS = (performance.now() - sweepStart) / 1000
    await dispatcher.close()
    const { peakRssMb } = await memoryOf(ready.pid)
    return { hash, readyS, rssReadyMb, sweepS, devicesPerS: ready.devices.length / sweepS, requests, peakRssMb, failures }
  } finally {
    await server.stop()
  }
}

async function main (): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const work = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-fleet-'))
  try {
    const launch = (await prepareLaunchers(options.tsx ? 'tsx' : 'dist', work)).emulator
    const loadBefore = os.loadavg()
    // A one-device fleet: the process's own cost, so the per-device cost can be told apart.
    const one = await runOnce({ ...options, devices: 1, concurrency: 1 }, 'fast', launch)
    const fast = await runOnce(options, 'fast', launch)
    const device = await runOnce(options, 'device', launch)
    const loadAfter = os.loadavg()
    const perDeviceKb = (fast.rssReadyMb - one.rssReadyMb) * 1024 / (options.devices - 1)
    const row = (r: Run) => `| \`${r.hash}\` | ${r.readyS.toFixed(1)} s | ${r.rssReadyMb.toFixed(0)} MB | ${r.sweepS.toFixed(1)} s | **${r.devicesPerS.toFixed(0)}** | ${r.requests} | ${r.peakRssMb.toFixed(0)} MB | ${r.failures.length} |`
    const machine = describeMachine()
    const report = [
      `## Fleet: ${options.devices} devices from one process (\`npm run bench:fleet\`)`,
      '',
      `${describeRevision(REPO_ROOT)}; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${loadBefore.map(l => l.toFixed(1)).join(' ')} before, ${loadAfter.map(l => l.toFixed(1)).join(' ')} after.`,
      `CLI \`--devices ${options.devices} --device-addresses 127.0.1.1 --in-memory\`, sweep ${options.concurrency} devices in flight, one connection each.`,
      '',
      '| password hash | ready | RSS at ready | sweep | devices/s | requests | peak RSS | failures |',
      '|---|---|---|---|---|---|---|---|',
      row(fast),
      row(device),
      '',
      `Memory per device: ${perDeviceKb.toFixed(0)} KB (RSS at ready, ${options.devices} devices against 1: ${fast.rssReadyMb.toFixed(0)} MB against ${one.rssReadyMb.toFixed(0)} MB).`,
      ...[...fast.failures, ...device.failures].slice(0, 5).map(f => `- failure: ${f}`),
      ''
    ].join('\n')
    process.stdout.write(report + '\n')
    const out = options.out ?? path.join(REPO_ROOT, 'bench', 'out', 'fleet.md')
    await mkdir(path.dirname(out), { recursive: true })
    await writeFile(out, report)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:fleet: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
