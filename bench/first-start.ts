// One fresh process's start-up, import to ready, for the bench's in-process target: the built
// package's startEmulator() (in memory, on the bench certificate, as a test suite's `before`
// hook runs it), or a bare Fastify HTTPS server on the same certificate. Prints one JSON line:
// `{ firstMs, laterMs: [...] }`, the later ones being further starts in the same process.
//
//   node bench/first-start.js --emulator <build>/dist/index.js --cert cert.pem --key key.pem [--later 5]
//   node bench/first-start.js --bare --cert cert.pem --key key.pem [--later 5]
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

interface Running { close: () => Promise<void> }

const argv = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? undefined : argv[i + 1]
}
const later = Number(value('later') ?? 5)
const cert = readFileSync(value('cert') ?? '', 'utf8')
const key = readFileSync(value('key') ?? '', 'utf8')
const entry = value('emulator')

async function start (): Promise<Running> {
  if (entry !== undefined) {
    const { startEmulator } = await import(pathToFileURL(entry).href) as { startEmulator: (o: object) => Promise<Running> }
    // The same certificate files as the bare server: generating one would be measured, not compared.
    return await startEmulator({ cert: value('cert'), key: value('key'), logLevel: 'silent' })
  }
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ https: { cert, key } })
  app.get('/apis/v2/streams', async () => ({ stream_list: [] }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { close: () => app.close() }
}

const t0 = performance.now()
const first = await start()
const firstMs = performance.now() - t0
await first.close()
const laterMs: number[] = []
for (let i = 0; i < later; i++) {
  const t = performance.now()
  const running = await start()
  laterMs.push(performance.now() - t)
  await running.close()
}
process.stdout.write(JSON.stringify({ firstMs, laterMs }) + '\n')
