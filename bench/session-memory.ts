// `npx tsx bench/session-memory.ts [--sessions 200000]`: the memory that sessions never logged
// out hold, and what the sweep gives back (issue 13). One emulator app (buildApp, in memory,
// default options but --max-sessions raised to fit) on a ManualClock; the sessions are created
// through its SessionStore (`app.kraken.sessions.create`, what a login does after the password
// check: 200,000 real logins would be 200,000 deliberate scrypt hashes, about 3 hours at two at a
// time). The heap is measured after a full GC (v8's gc, exposed at run time) before, after
// creating them, and after the clock passes the session timeout and the sweep timer fires.
import v8 from 'node:v8'
import vm from 'node:vm'
import { performance } from 'node:perf_hooks'
import { buildApp } from '../src/app.ts'
import { ManualClock } from '../src/kernel/clock.ts'
import { defaults } from '../src/config.ts'

const argv = process.argv.slice(2)
const count = argv[0] === '--sessions' ? Number(argv[1]) : 200_000
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
const heap = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const clock = new ManualClock()
const app = await buildApp({ inMemory: true, logLevel: 'silent', maxSessions: count }, { clock })
const { sessions } = app.kraken
const names = ['haiadmin', 'operator', 'user'] as const
const roles = ['Administrator', 'Operator', 'Viewer'] as const

const baseline = heap()
const createStart = performance.now()
for (let i = 0; i < count; i++) sessions.create(names[i % 3]!, roles[i % 3]!)
const createMs = performance.now() - createStart
const full = heap()
const rss = process.memoryUsage().rss

clock.advance(defaults.sessionTimeout * 1000 - 1)
const kept = sessions.size
const sweepStart = performance.now()
clock.advance(1)
const sweepMs = performance.now() - sweepStart
const after = heap()

process.stdout.write([
  `## Session memory (${new Date().toISOString()}, Node ${process.version})`, '',
  `- ${count.toLocaleString('en-US')} sessions created through the SessionStore in ${createMs.toFixed(0)} ms; ${kept.toLocaleString('en-US')} still live 1 ms before the ${defaults.sessionTimeout} s timeout`,
  `- heap after a full GC: ${mb(baseline)} before, ${mb(full)} with the sessions (+${mb(full - baseline)}, ${Math.round((full - baseline) / count)} bytes each; RSS ${mb(rss)}), ${mb(after)} after the sweep (+${mb(after - baseline)} over the baseline)`,
  `- the sweep that found them all expired took ${sweepMs.toFixed(0)} ms in all, in turns of at most 10,000 sessions (${Math.ceil(count / 10_000)} turns, ${(sweepMs / Math.ceil(count / 10_000)).toFixed(1)} ms each on average); ${sessions.size} sessions left`, ''
].join('\n'))
await app.close()
