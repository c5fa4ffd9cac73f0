// The Markdown report of one `npm run bench` run, with the ratios the targets are set in.
import type { Measurement } from './load.ts'
import type { Machine } from './machine.ts'

export type ServerKind = 'emulator' | 'bare' | 'naive' | 'json-server'
export type ScenarioName = 'GET list' | 'GET item' | 'POST' | 'PUT'
export const SCENARIOS: readonly ScenarioName[] = ['GET list', 'GET item', 'PUT', 'POST']

export interface SizeResult {
  streams: number
  /** list response size, to read the list ratios with */
  listBytes: number
  runs: Array<{ scenario: ScenarioName, server: ServerKind, m: Measurement }>
  /** emulator: on a data file it left at a clean stop (stamped, the repeated-start case);
   *  emulatorForeign: on a file it did not write (the full check runs) */
  coldStartMs: { emulator: number[], emulatorForeign: number[], bare: number[] }
  /** one fresh process each: import to ready of startEmulator() and of a bare Fastify HTTPS server, then later starts in the same process */
  firstStart?: { emulatorMs: number[], bareMs: number[], laterMs: number[] }
  /** peak RSS (VmHWM) of each server process; emulatorReady and emulatorResting: RSS of the read
   *  instance once ready, and after its logins (before any load) */
  peakRssMb: { emulatorReady: number, emulatorResting: number, emulator: number, emulatorWrites: number, bare: number, naive: number, jsonServer?: number }
  /** streams in the write instance after the POST scenario */
  streamsAfterPost: number
}

/** What every bench report says about its run, whatever it measured. */
export interface RunHeader {
  machine: Machine
  loadAfter: number[]
  command: string
  /** the commit measured */
  revision: string
  startedAt: Date
  durationS: number
  rounds: number
  warmupS: number
  connections: number
}

export interface Report extends RunHeader {
  /** how the servers were started */
  launch: string
  sizes: SizeResult[]
}

export const f0 = (n: number): string => Math.round(n).toLocaleString('en-US')
export const f1 = (n: number): string => n.toFixed(1)
const f2 = (n: number): string => n.toFixed(2)
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function run (size: SizeResult, scenario: ScenarioName, server: ServerKind): Measurement | undefined {
  return size.runs.find(r => r.scenario === scenario && r.server === server)?.m
}

interface Target { label: string, met: boolean | undefined }

/** The targets, each a ratio measured in this run (undefined: not measured). */
export function targetsOf (size: SizeResult, scenario: ScenarioName): { bare?: Target, naive?: Target, p99?: Target } {
  const emu = run(size, scenario, 'emulator')
  const bare = run(size, scenario, 'bare')
  const naive = run(size, scenario, 'naive')
  const ratio = (a: Measurement | undefined, b: Measurement | undefined) => a === undefined || b === undefined ? undefined : a.rps / b.rps
  const check = (value: number | undefined, ok: (v: number) => boolean) => value === undefined ? undefined : ok(value)
  if (scenario === 'GET list' || scenario === 'GET item') {
    return { bare: { label: '>= 0.75', met: check(ratio(emu, bare), v => v >= 0.75) } }
  }
  if (scenario === 'POST' && size.streams >= 10_000) {
    return {
      bare: { label: '>= 0.50', met: check(ratio(emu, bare), v => v >= 0.50) },
      naive: { label: '>= 100', met: check(ratio(emu, naive), v => v >= 100) },
      p99: { label: '< 20 ms', met: check(emu?.p99, v => v < 20) }
    }
  }
  return {}
}

const verdict = (t: Target | undefined): string => t === undefined ? '' : t.met === undefined ? `${t.label} (not measured)` : `${t.label} ${t.met ? 'met' : '**missed**'}`

export function renderReport (report: Report): string {
  const m = report.machine
  const lines: string[] = []
  lines.push(`## Run of ${report.startedAt.toISOString()}`, '')
  lines.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}`)
  lines.push(`- Load average (1, 5, 15 min) before: ${m.loadAverage.join(', ')}; after: ${report.loadAfter.join(', ')}`)
  lines.push(`- Command: \`${report.command}\` at ${report.revision}; servers: ${report.launch}`)
  lines.push(`- Each row: ${report.connections} connections (one login each), ${report.warmupS} s warm-up, then ${report.rounds} rounds of ${report.durationS} s with the servers' order rotating each round; req/s is the mean of the rounds, p50 their median, p99 the worst`, '')

  lines.push('### Throughput and latency', '')
  lines.push('| stored streams | scenario | server | req/s | p50 ms | p99 ms | requests | non-2xx | errors |')
  lines.push('|---:|---|---|---:|---:|---:|---:|---:|---:|')
  for (const size of report.sizes) {
    for (const scenario of SCENARIOS) {
      for (const server of ['emulator', 'bare', 'naive', 'json-server'] as const) {
        const r = run(size, scenario, server)
        if (r === undefined) continue
        lines.push(`| ${f0(size.streams)} | ${scenario} | ${server} | ${f0(r.rps)} | ${f1(r.p50)} | ${f1(r.p99)} | ${f0(r.requests)} | ${f0(r.non2xx)} | ${f0(r.errors)} |`)
      }
    }
  }

  lines.push('', '### Ratios and targets', '')
  lines.push('| stored streams | scenario | emulator/bare | target | emulator/naive | target | emulator p99 | target | emulator/json-server |')
  lines.push('|---:|---|---:|---|---:|---|---:|---|---:|')
  for (const size of report.sizes) {
    for (const scenario of SCENARIOS) {
      const emu = run(size, scenario, 'emulator')
      const bare = run(size, scenario, 'bare')
      const naive = run(size, scenario, 'naive')
      if (emu === undefined) continue
      const t = targetsOf(size, scenario)
      const rb = bare === undefined ? '' : f2(emu.rps / bare.rps)
      const rn = naive === undefined ? '' : f1(emu.rps / naive.rps)
      const js = run(size, scenario, 'json-server')
      const rj = js === undefined ? '' : `${f1(emu.rps / js.rps)}x`
      lines.push(`| ${f0(size.streams)} | ${scenario} | ${rb} | ${verdict(t.bare)} | ${rn} | ${verdict(t.naive)} | ${f1(emu.p99)} ms | ${verdict(t.p99)} | ${rj} |`)
    }
  }

  lines.push('', '### Cold start and memory', '')
  lines.push('| stored streams | emulator cold start ms | bare cold start ms | ratio | target | cold start on a file it did not write ms | emulator RSS when ready MB | target | after logins MB | emulator peak RSS MB | / bare peak | target | emulator POST instance peak MB | bare peak MB | naive peak MB | json-server peak MB |')
  lines.push('|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|')
  for (const size of report.sizes) {
    const emu = median(size.coldStartMs.emulator)
    const bare = median(size.coldStartMs.bare)
    const ratio = emu / bare
    const big = size.streams >= 10_000
    const peak = size.peakRssMb.emulator / size.peakRssMb.bare
    const readyTarget = big ? `<= 100 ${size.peakRssMb.emulatorReady <= 100 ? 'met' : '**missed**'}` : ''
    const peakTarget = big ? `<= 1.2 ${peak <= 1.2 ? 'met' : '**missed**'}` : ''
    lines.push(`| ${f0(size.streams)} | ${f0(emu)} | ${f0(bare)} | ${f2(ratio)} | <= 1.5 ${ratio <= 1.5 ? 'met' : '**missed**'} | ${f0(median(size.coldStartMs.emulatorForeign))} | ${f0(size.peakRssMb.emulatorReady)} | ${readyTarget} | ${f0(size.peakRssMb.emulatorResting)} | ${f0(size.peakRssMb.emulator)} | ${f2(peak)} | ${peakTarget} | ${f0(size.peakRssMb.emulatorWrites)} | ${f0(size.peakRssMb.bare)} | ${f0(size.peakRssMb.naive)} | ${size.peakRssMb.jsonServer === undefined ? '' : f0(size.peakRssMb.jsonServer)} |`)
  }
  const first = report.sizes.find(s => s.firstStart !== undefined)?.firstStart
  if (first !== undefined) {
    const emu = median(first.emulatorMs)
    const bare = median(first.bareMs)
    const later = median(first.laterMs)
    lines.push('', '### startEmulator() in a fresh process', '')
    lines.push('| import to ready, emulator ms | bare Fastify HTTPS ms | ratio | target | later starts in the same process, median ms | target |')
    lines.push('|---:|---:|---:|---|---:|---|')
    lines.push(`| ${f0(emu)} | ${f0(bare)} | ${f2(emu / bare)} | <= 2 ${emu / bare <= 2 ? 'met' : '**missed**'} | ${f0(later)} | <= 50 ${later <= 50 ? 'met' : '**missed**'} |`)
    lines.push('', `Median of ${first.emulatorMs.length} fresh processes each (in memory, on the bench certificate, log silent); later starts: ${first.laterMs.length} more in those processes.`)
  }
  lines.push('', 'Cold start: median of ' + (report.sizes[0]?.coldStartMs.emulator.length ?? 0) + ' starts, from spawning the process to the answer of the first successful login, on a data file the emulator left at a clean stop (the repeated-start case; the next column: on the seeded file it did not write, which it checks in full). ' +
    `RSS of the read instance: once ready; then after its ${report.connections} logins (scrypt, four at a time), before any load. Peak RSS: VmHWM of the server process over the whole run (the read instance serves GET list, GET item and PUT; the POST instance also holds the pool of free outputs). Notes: ` +
    report.sizes.map(s => `at ${f0(s.streams)} streams the list response is ${f0(s.listBytes / 1024)} KiB and the POST instance ended with ${f0(s.streamsAfterPost)} streams`).join('; ') + '.')
  return lines.join('\n') + '\n'
}
