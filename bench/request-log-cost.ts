// `npx tsx bench/request-log-cost.ts [--batches 30] [--batch 400]` (GET list: 400 at 100 streams, 5 at 10,000): the request log's own CPU
// cost per request, in process. Two apps on the same store file (one with --journal-size 0) answer
// the same requests through inject(), in alternating batches; each batch's CPU time
// (process.cpuUsage) over its requests gives µs per request; the medians are compared. Without
// TLS and sockets a request is cheaper than over HTTPS, so the share found here is an upper bound
// of the share over the wire. Complements `npm run bench -- --journal`, whose req/s a busy
// machine blurs.
import { mkdtemp, rm, copyFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildApp, type KrakenApp } from '../src/app.ts'
import { seedStore, streamBody, writeDataFile, type SeededStore } from './seed-db.ts'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : Number(args[i + 1])
}
const batches = arg('--batches', 30)
const batch = arg('--batch', 400)
const sizes = [100, 10_000]

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function main (): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kraken-log-cost-'))
  const lines = ['| stored streams | scenario | log on µs/request | log off µs/request | cost |', '|---:|---|---:|---:|---:|']
  try {
    for (const streams of sizes) {
      const seeded = await seedStore({ streams, freeOutputs: batches * batch + 10 })
      const file = path.join(dir, `${streams}.json`)
      await writeDataFile(file, seeded.db)
      const apps: Record<'on' | 'off', KrakenApp> = {
        on: await open(file, dir, `${streams}-on`, 10_000),
        off: await open(file, dir, `${streams}-off`, 0)
      }
      try {
        for (const scenario of ['GET list', 'GET item', 'POST'] as const) {
          // A list of 10,000 streams takes tens of ms: fewer of them per batch.
          const count = scenario === 'GET list' ? Math.max(5, Math.round(batch * 100 / streams)) : batch
          const cost = { on: [] as number[], off: [] as number[] }
          const next = { on: 0, off: 0 }
          for (let b = 0; b < batches; b++) {
            for (const kind of (b % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as Array<'on' | 'off'>) {
              const app = apps[kind]
              const cookie = `id=${app.kraken.sessions.create('haiadmin', 'Administrator').id}`
              const start = process.cpuUsage()
              for (let i = 0; i < count; i++) await one(app, scenario, cookie, seeded, next[kind]++)
              const used = process.cpuUsage(start)
              if (b > 1) cost[kind].push((used.user + used.system) / count) // the first two batches warm up
            }
          }
          const on = median(cost.on)
          const off = median(cost.off)
          const line = `| ${streams.toLocaleString('en-US')} | ${scenario} | ${on.toFixed(0)} | ${off.toFixed(0)} | ${((on - off) / off * 100).toFixed(1)} % |`
          process.stderr.write(line + '\n')
          lines.push(line)
        }
      } finally {
        await apps.on.close()
        await apps.off.close()
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  process.stdout.write(`\n${batches} alternating batches of ${batch} requests per app (the first two left out), median CPU µs per request, Node ${process.version}:\n\n${lines.join('\n')}\n`)
}

async function open (file: string, dir: string, name: string, journalSize: number): Promise<KrakenApp> {
  const copy = path.join(dir, `${name}.json`)
  await copyFile(file, copy)
  return await buildApp({ data: copy, logLevel: 'silent', transitionMs: 0, journalSize })
}

async function one (app: KrakenApp, scenario: 'GET list' | 'GET item' | 'POST', cookie: string, seeded: SeededStore, n: number): Promise<void> {
  const headers = { cookie, 'content-type': 'application/json', 'user-agent': 'bench' }
  const res = scenario === 'POST'
    ? await app.inject({ method: 'POST', url: '/apis/v2/streams', headers, payload: JSON.stringify(streamBody(`cost ${n}`, seeded, seeded.freeOutputIds[n]!)) })
    : await app.inject({ method: 'GET', url: scenario === 'GET list' ? '/apis/v2/streams' : `/apis/v2/streams/stream-${seeded.streamIds[0]!}`, headers })
  if (res.statusCode >= 300) throw new Error(`${scenario}: ${res.statusCode} ${res.body.slice(0, 200)}`)
}

main().catch((error: unknown) => {
  process.stderr.write(`failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
