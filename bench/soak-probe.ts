// Preloaded into the emulator by the soak (`node --import <this> dist/cli.js ...`): measures the
// event-loop delay from inside the server and answers the soak over the IPC channel. It never
// touches the emulator's code or state. Besides the histogram it keeps the longest stalls and
// the longest garbage-collection pauses, so a failed soak says whether GC was the cause.
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks'

export interface ProbeStats {
  maxMs: number
  p99Ms: number
  meanMs: number
  rssMb: number
  heapUsedMb: number
  /** the longest event-loop stalls seen (ms), longest first */
  stallsMs: number[]
  /** the longest GC pauses seen (ms), longest first */
  gcPausesMs: number[]
  /** heap in use right after a full GC (when the soak started node with --expose-gc): what is
   *  really kept alive, unlike RSS, which also holds free memory the allocators did not return */
  heapAfterGcMb: number | undefined
}

const histogram = monitorEventLoopDelay({ resolution: 10 })
histogram.enable()

const TICK_MS = 20
let stalls: number[] = []
let gcPauses: number[] = []
const keepLongest = (list: number[], value: number): number[] => [...list, value].sort((a, b) => b - a).slice(0, 5)

let last = performance.now()
const ticker = setInterval(() => {
  const now = performance.now()
  const late = now - last - TICK_MS
  if (late > 50) stalls = keepLongest(stalls, late)
  last = now
}, TICK_MS)
ticker.unref()

const gc = new PerformanceObserver(list => {
  for (const entry of list.getEntries()) if (entry.duration > 20) gcPauses = keepLongest(gcPauses, entry.duration)
})
gc.observe({ entryTypes: ['gc'] })

function stats (heapAfterGcMb: number | undefined): ProbeStats {
  const memory = process.memoryUsage()
  return {
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    meanMs: histogram.mean / 1e6,
    rssMb: memory.rss / 1024 ** 2,
    heapUsedMb: memory.heapUsed / 1024 ** 2,
    stallsMs: stalls,
    gcPausesMs: gcPauses,
    heapAfterGcMb
  }
}

/** Heap in use after a full collection, when node runs with --expose-gc. */
function heapAfterGc (): number | undefined {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) return undefined
  collect()
  return process.memoryUsage().heapUsed / 1024 ** 2
}

if (process.send !== undefined) {
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      // The forced collection blocks the loop: start counting once the timers it delayed have run.
      const heap = heapAfterGc()
      setTimeout(() => {
        histogram.reset()
        stalls = []
        gcPauses = []
        process.send?.(stats(heap))
      }, 200)
      return
    }
    // The numbers first, then the forced collection, so it never counts as the emulator's pause.
    const measured = stats(undefined)
    process.send?.({ ...measured, heapAfterGcMb: heapAfterGc() })
  })
  // The channel must not keep a stopped server alive.
  process.channel?.unref()
}
