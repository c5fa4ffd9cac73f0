// The report of `npm run bench -- --live`: GET item with 50 live pages' event streams open
// against none (issue 17, acceptance 4), and what closing them gives back.
import type { Measurement } from './load.ts'
import { f0, f1, median, type RunHeader } from './report.ts'

export type LiveKind = 'no pages' | 'pages open'

export interface LiveSizeResult {
  streams: number
  pages: number
  runs: Array<{ server: LiveKind, m: Measurement, rounds: number[], cpuUs: number[] }>
  /** Bytes of event stream each page received during the measured rounds (a check that they were live). */
  eventBytesPerPage: number
  /** The emulator's heap (MB) in one process: before the pages, with them open, after closing them (each after a full GC). */
  heapMb: { before: number, open: number, closed: number }
}

export interface LiveReport extends RunHeader {
  sizes: LiveSizeResult[]
}

export function renderLiveReport (report: LiveReport): string {
  const m = report.machine
  const lines: string[] = []
  lines.push(`## Live pages' cost, run of ${report.startedAt.toISOString()}`, '')
  lines.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}`)
  lines.push(`- Load average (1, 5, 15 min) before: ${m.loadAverage.join(', ')}; after: ${report.loadAfter.join(', ')}`)
  lines.push(`- Command: \`${report.command}\` at ${report.revision}`)
  lines.push(`- GET item on one emulator, ${report.connections} connections, ${report.warmupS} s warm-up, ${report.rounds} rounds of ${report.durationS} s alternating without and with the pages' event streams open (the order rotating each round)`, '')
  lines.push('| stored streams | pages | no pages req/s | pages open req/s | cost (req/s) | CPU µs/request none / open | cost (CPU) | target within 10 % | rounds none | rounds open | p99 none/open ms | event bytes per page | heap MB before / open / closed |')
  lines.push('|---:|---:|---:|---:|---:|---|---:|---|---|---|---|---:|---|')
  for (const size of report.sizes) {
    const none = size.runs.find(r => r.server === 'no pages')
    const open = size.runs.find(r => r.server === 'pages open')
    if (none === undefined || open === undefined) continue
    const cost = (none.m.rps - open.m.rps) / none.m.rps * 100
    const cpuNone = median(none.cpuUs)
    const cpuOpen = median(open.cpuUs)
    const cpuCost = (cpuOpen - cpuNone) / cpuNone * 100
    lines.push(`| ${f0(size.streams)} | ${size.pages} | ${f0(none.m.rps)} | ${f0(open.m.rps)} | ${f1(cost)} % | ${f0(cpuNone)} / ${f0(cpuOpen)} | ${f1(cpuCost)} % | ${cpuCost <= 10 ? 'met' : '**missed**'} (CPU) | ${none.rounds.map(f0).join(', ')} | ${open.rounds.map(f0).join(', ')} | ${f1(none.m.p99)} / ${f1(open.m.p99)} | ${f0(size.eventBytesPerPage)} | ${f1(size.heapMb.before)} / ${f1(size.heapMb.open)} / ${f1(size.heapMb.closed)} |`)
  }
  lines.push('', 'Cost (req/s): (none - open) / none, negative when the run with the pages was faster; cost (CPU): (open - none) / none of the median CPU time per request, read from /proc/<pid>/stat around each round. The target is judged on CPU per request, which load from elsewhere on a shared machine disturbs least (req/s swings by 2x between rounds here). The heap figures come from an emulator in this process (v8 heap after a full GC), the same pages opened and closed.')
  return lines.join('\n') + '\n'
}
