// Child process for test/store-crash.test.ts: opens a durable store (seeding 10,000 items when
// the file is new, else recovering whatever the previous, killed run left), then runs WRITERS
// concurrent writers, each committing in a loop, until it is SIGKILLed.
//
// Commit n of writer w atomically: puts item `w<w>-<n>`, sets singleton `writer-<w>` to {n}, and
// deletes item `w<w>-<n-2>` unless n-2 is a multiple of 10. It prints `ack <w> <n>` only after the commit's
// promise resolved, so every printed line is a promise of durability the test can check.
//
// usage: node --import tsx test/helpers/store-writer.ts <file> [compactBytes]
import { pathToFileURL } from 'node:url'
import { openStore, type Db, type Op } from '../../src/kernel/store.ts'

export const WRITERS = 50
export const SEEDED = 10_000

export function crashSeed (): Db {
  return {
    format: 'kraken-emulator/1',
    fixture: 'crash',
    collections: {
      streams: Array.from({ length: SEEDED }, (_, i) => ({ uuid: `seed-${i}`, name: `stream ${i}`, url: `srt://10.0.${i >> 8}.${i & 255}:9000`, state: 'stopped' }))
    },
    singletons: {}
  }
}

export function opsFor (writer: number, n: number): Op[] {
  const ops: Op[] = [
    { op: 'put', collection: 'streams', id: `w${writer}-${n}`, item: { uuid: `w${writer}-${n}`, writer, n, pad: 'x'.repeat(64) } },
    { op: 'set', singleton: `writer-${writer}`, value: { n } }
  ]
  // Keeping every tenth item checks old commits across compactions without the store growing
  // so fast that each run's snapshots get slower.
  if (n >= 2 && (n - 2) % 10 !== 0) ops.push({ op: 'delete', collection: 'streams', id: `w${writer}-${n - 2}` })
  return ops
}

async function main (): Promise<void> {
  const [file, compactBytes] = process.argv.slice(2)
  if (file === undefined) throw new Error('usage: store-writer.ts <file> [compactBytes]')
  const store = await openStore({
    file,
    seed: crashSeed,
    idField: () => 'uuid',
    compactBytes: compactBytes === undefined ? undefined : Number(compactBytes)
  })
  // Each run continues after what the previous one acknowledged (the singleton says where).
  const start = (writer: number): number => ((store.singleton(`writer-${writer}`)?.n as number | undefined) ?? -1) + 1
  process.stdout.write('ready\n')
  await Promise.all(Array.from({ length: WRITERS }, async (_, writer) => {
    for (let n = start(writer); ; n++) {
      await store.commit(opsFor(writer, n))
      // Synchronous on a pipe (Linux), so the line is out of the process once write returns.
      process.stdout.write(`ack ${writer} ${n}\n`)
    }
  }))
}

// Run only as a program: the test imports the constants and opsFor.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
