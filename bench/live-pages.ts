// Opens `count` live pages' event streams (GET /ui/events, one session each) and reads them to
// the end, counting bytes: what 50 projectors showing the live page cost the emulator.
import { Agent, request } from 'undici'
import type { BenchClient } from './http.ts'

export interface LivePages {
  /** Event-stream bytes received so far, summed over the pages. */
  bytes: () => number
  close: () => Promise<void>
}

export async function openLivePages (client: BenchClient, ca: string, base: string, count: number): Promise<LivePages> {
  const cookies = await client.sessions(base, count)
  const agent = new Agent({ connect: { ca, servername: 'localhost' }, connections: count })
  const controller = new AbortController()
  let bytes = 0
  const done: Array<Promise<void>> = []
  for (const cookie of cookies) {
    const res = await request(`${base}/ui/events`, { headers: { cookie }, dispatcher: agent, signal: controller.signal })
    if (res.statusCode !== 200) throw new Error(`/ui/events answered ${res.statusCode}: ${await res.body.text()}`)
    done.push(new Promise<void>(resolve => {
      res.body.on('data', (chunk: Buffer) => { bytes += chunk.length })
      res.body.on('end', resolve)
      // Aborted by close(): the end this bench asks for.
      res.body.on('error', () => resolve())
    }))
  }
  return {
    bytes: () => bytes,
    close: async () => {
      controller.abort()
      await Promise.all(done)
      await agent.close()
    }
  }
}
