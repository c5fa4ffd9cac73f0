// The report of `npm run bench -- --journal`: the request log's cost, log on against log off.
import type { Measurement } from './load.ts'
import { f0, f1, median, type RunHeader, type ScenarioName } from './report.ts'

export type JournalKind = 'log on' | 'log off'

export interface JournalSizeResult {
  streams: number
  /** `rounds`: req/s of each round; `cpuUs`: the server's CPU time per request in each round (µs). */
  runs: Array<{ scenario: ScenarioName, server: JournalKind, m: Measurement, rounds: number[], cpuUs: number[] }>
  peakRssMb: { logOn: number, logOff: number, postLogOn: number, postLogOff: number }
}

export interface JournalReport extends RunHeader {
  sizes: JournalSizeResult[]
}

export function renderJournalReport (report: JournalReport): string {
  const m = report.machine
  const lines: string[] = []
  lines.push(`## Request log cost, run of ${report.startedAt.toISOString()}`, '')
  lines.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}`)
  lines.push(`- Load average (1, 5, 15 min) before: ${m.loadAverage.join(', ')}; after: ${report.loadAfter.join(', ')}`)
  lines.push(`- Command: \`${report.command}\` at ${report.revision}`)
  lines.push(`- Each row: ${report.connections} connections (one login each), ${report.warmupS} s warm-up, then ${report.rounds} rounds of ${report.durationS} s with the two servers' order rotating each round; req/s is the mean of the rounds, p50 their median, p99 the worst`, '')
  lines.push('| stored streams | scenario | log on req/s | log off req/s | cost (req/s) | CPU µs/request on / off | cost (CPU) | target < 10 % | rounds on req/s | rounds off req/s | p50 on/off ms | p99 on/off ms |')
  lines.push('|---:|---|---:|---:|---:|---|---:|---|---|---|---|---|')
  for (const size of report.sizes) {
    for (const scenario of ['GET list', 'GET item', 'POST'] as const) {
      const on = size.runs.find(r => r.scenario === scenario && r.server === 'log on')
      const off = size.runs.find(r => r.scenario === scenario && r.server === 'log off')
      if (on === undefined || off === undefined) continue
      const cost = (off.m.rps - on.m.rps) / off.m.rps * 100
      const cpuOn = median(on.cpuUs)
      const cpuOff = median(off.cpuUs)
      const cpuCost = (cpuOn - cpuOff) / cpuOff * 100
      lines.push(`| ${f0(size.streams)} | ${scenario} | ${f0(on.m.rps)} | ${f0(off.m.rps)} | ${f1(cost)} % | ${f0(cpuOn)} / ${f0(cpuOff)} | ${f1(cpuCost)} % | ${cpuCost < 10 ? 'met' : '**missed**'} (CPU) | ${on.rounds.map(f0).join(', ')} | ${off.rounds.map(f0).join(', ')} | ${f1(on.m.p50)} / ${f1(off.m.p50)} | ${f1(on.m.p99)} / ${f1(off.m.p99)} |`)
    }
  }
  lines.push('', 'Cost (req/s): (off - on) / off; cost (CPU): (on - off) / off of the median CPU time per request over the rounds, read from /proc/<pid>/stat before and after each round (10 ms ticks); either is negative when the run with the log was faster (noise). Peak RSS MB (read instances on/off, POST instances on/off): ' +
    report.sizes.map(s => `${f0(s.streams)} streams ${f0(s.peakRssMb.logOn)}/${f0(s.peakRssMb.logOff)}, ${f0(s.peakRssMb.postLogOn)}/${f0(s.peakRssMb.postLogOff)}`).join('; ') + '.')
  return lines.join('\n') + '\n'
}
