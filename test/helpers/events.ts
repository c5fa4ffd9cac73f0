import { request, type Dispatcher } from 'undici'

export interface LiveEvent { event: string, data: unknown }

/** An open `GET /ui/events` stream read over real HTTPS, parsed into events as they arrive. */
export interface EventStream {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** Every event received so far, in order. */
  events: LiveEvent[]
  /** The first event named `name` (and matching `which`) not taken yet; resolves at once if one is waiting. */
  next: (name: string, which?: (data: any) => boolean) => Promise<LiveEvent> // eslint-disable-line @typescript-eslint/no-explicit-any -- event data is JSON of many shapes; tests narrow it
  /** Resolves when the server has ended the stream. */
  ended: Promise<void>
  close: () => void
}

/** Opens the live page's event stream with `cookie`; a refused one resolves with its status and the body as one `error` event. */
export async function openEvents (emulator: { url: string, agent: Dispatcher }, cookie: string | undefined, headers: Record<string, string> = {}): Promise<EventStream> {
  const controller = new AbortController()
  const res = await request(emulator.url + '/ui/events', {
    headers: { ...headers, ...(cookie === undefined ? {} : { cookie }) },
    dispatcher: emulator.agent,
    signal: controller.signal
  })
  const events: LiveEvent[] = []
  const taken = new Set<number>()
  const waiters: Array<() => void> = []
  let buffer = ''
  let done!: () => void
  const ended = new Promise<void>(resolve => { done = resolve })
  const wake = (): void => { for (const w of waiters.splice(0)) w() }
  if (res.statusCode !== 200) {
    events.push({ event: 'error', data: JSON.parse(await res.body.text()) })
    done()
  } else {
    res.body.setEncoding('utf8')
    res.body.on('data', (chunk: string) => {
      buffer += chunk
      let cut: number
      while ((cut = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        const name = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (name !== undefined && data !== undefined) events.push({ event: name, data: JSON.parse(data) })
      }
      wake()
    })
    res.body.on('end', () => { done(); wake() })
    res.body.on('error', () => { done(); wake() })
  }
  let finished = false
  void ended.then(() => { finished = true })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as in EventStream.next
  async function next (name: string, which: (data: any) => boolean = () => true): Promise<LiveEvent> {
    for (;;) {
      const i = events.findIndex((e, index) => e.event === name && !taken.has(index) && which(e.data))
      if (i !== -1) {
        taken.add(i)
        return events[i]!
      }
      if (finished) throw new Error(`the stream ended before a '${name}' event (got: ${events.map(e => e.event).join(', ')})`)
      await new Promise<void>(resolve => { waiters.push(resolve); void ended.then(resolve) })
    }
  }
  return { status: res.statusCode, headers: res.headers, events, next, ended, close: () => controller.abort() }
}
