// Opens live pages' event streams (GET /ui/events, one session each) and reads them to the end,
// counting bytes: what 50 projectors showing the live page cost the emulator.
import { Agent, request } from 'undici'

export interface LivePages {
  /** Event-stream bytes received so far, summed over the pages. */
  bytes: () => number
  close: () => Promise<void>
}

/** One page per cookie (`id=<session>`). */
export async function openLivePages (ca: string, base: string, cookies: readonly string[]): Promise<LivePages> {
  const agent = new Agent({ connect: { ca, servername: 'localhost' }, connections: cookies.length })
  const controllers: AbortController[] = []
  let bytes = 0
  const done: Array<Promise<void>> = []
  for (const cookie of cookies) {
    const controller = new AbortController()
    controllers.push(controller)
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
      for (const controller of controllers) controller.abort()
      await Promise.all(done)
      await agent.close()
    }
  }
}
