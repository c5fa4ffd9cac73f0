// Durable commits per second with 50 concurrent committers, at 100 and 10,000 items, against the
// in-memory store as the ceiling. Each commit inserts one new item (what a POST does).
//
// usage: npx tsx bench/store-bench.ts [seconds per case, default 3]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore, type Db } from '../src/kernel/store.ts'

const COMMITTERS = 50
const seconds = Number(process.argv[2] ?? 3)

function seed (items: number): Db {
  return {
    format: 'kraken-emulator/1',
    fixture: 'bench',
    collections: {
      streams: Array.from({ length: items }, (_, i) => ({ uuid: `seed-${i}`, name: `stream ${i}`, source: { url: `srt://10.0.0.1:${9000 + (i % 1000)}`, latency: 120 }, state: 'stopped' }))
    },
    singletons: {}
  }
}

async function measure (items: number, durable: boolean): Promise<{ perSecond: number, p99: number, generations: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-bench-'))
  try {
    const file = durable ? path.join(dir, 'kraken.json') : undefined
    const store = await openStore({ file, seed: () => seed(items), idField: () => 'uuid' })
    const latencies: number[] = []
    let count = 0
    const until = performance.now() + seconds * 1000
    await Promise.all(Array.from({ length: COMMITTERS }, async (_, committer) => {
      for (let n = 0; performance.now() < until; n++) {
        const id = `c${committer}-${n}`
        const start = performance.now()
        await store.commit([{ op: 'put', collection: 'streams', id, item: { uuid: id, name: `new ${n}`, source: { url: 'srt://10.0.0.2:9000', latency: 120 }, state: 'stopped' } }])
        latencies.push(performance.now() - start)
        count++
      }
    }))
    const elapsed = seconds
    const generations = file === undefined ? 0 : JSON.parse(fs.readFileSync(file, 'utf8')).generation as number
    await store.close()
    latencies.sort((a, b) => a - b)
    return { perSecond: count / elapsed, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0, generations }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`${COMMITTERS} concurrent committers, ${seconds} s per case, temp dir on ${os.tmpdir()}`)
for (const items of [100, 10_000]) {
  for (const durable of [true, false]) {
    const { perSecond, p99, generations } = await measure(items, durable)
    const mode = durable ? `durable (snapshot generation ${generations} at the end)` : 'in memory'
    console.log(`${String(items).padStart(6)} items  ${mode.padEnd(42)} ${Math.round(perSecond).toString().padStart(8)} commits/s   p99 ${p99.toFixed(2)} ms`)
  }
}
