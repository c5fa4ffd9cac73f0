// One virtual user of the soak: logs in, works through a cycle of reads, writes and stream
// start/stop with the statuses a real client expects, logs out, and starts again. Every answer
// is checked; anything else is recorded as unexpected.
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import type { SeededStore } from './seed-db.ts'

export interface Tally {
  ops: Map<string, number>
  /** the first unexpected answers and transport errors, for the report; `counts` has them all */
  unexpected: string[]
  errors: string[]
  counts: { unexpected: number, errors: number }
}

export interface UserContext {
  url: string
  ca: string
  seeded: SeededStore
  /** the free output this user's streams use (an output serves one stream) */
  output: string
  index: number
  tally: Tally
  /** work cycles between a login and its logout */
  cyclesPerSession: number
  /** true once the soak is over: finish the cycle cleanly and return */
  done: () => boolean
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

const ACCOUNTS = ['haiadmin', 'operator', 'user'] as const

export async function runUser (ctx: UserContext): Promise<void> {
  const client = new Client(ctx.url, { connect: { ca: ctx.ca, servername: 'localhost' }, pipelining: 1 })
  // Four writers (Administrators and Operators) for every Viewer.
  const username = ACCOUNTS[ctx.index % 5 === 4 ? 2 : ctx.index % 2] ?? 'haiadmin'
  let cookie = ''

  async function call (op: string, method: Method, path: string, expected: readonly number[], body?: unknown): Promise<{ status: number, json: () => Record<string, unknown>, headers: Record<string, string | string[] | undefined> }> {
    const headers: Record<string, string> = {}
    if (cookie !== '') headers.cookie = cookie
    if (body !== undefined) headers['content-type'] = 'application/json'
    ctx.tally.ops.set(op, (ctx.tally.ops.get(op) ?? 0) + 1)
    try {
      const res = await client.request({ method, path, headers, body: body === undefined ? undefined : JSON.stringify(body) })
      const text = await res.body.text()
      if (!expected.includes(res.statusCode)) record(ctx.tally, 'unexpected', `${op}: ${method} ${path} -> ${res.statusCode} (expected ${expected.join('/')}) ${text.slice(0, 200)}`)
      return { status: res.statusCode, json: () => JSON.parse(text) as Record<string, unknown>, headers: res.headers }
    } catch (error) {
      record(ctx.tally, 'errors', `${op}: ${method} ${path}: ${(error as Error).message}`)
      return { status: 0, json: () => ({}), headers: {} }
    }
  }

  async function waitFor (id: string, status: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const res = await call('poll stream', 'GET', `/apis/v2/streams/stream-${id}`, [200])
      if (res.status !== 200 || res.json().status === status) return
      await sleep(10)
    }
    record(ctx.tally, 'unexpected', `stream ${id} never reached ${status}`)
  }

  try {
    while (!ctx.done()) {
      const login = await call('login', 'POST', '/apis/v2/login', [204], { username, password: 'krakenapi' })
      const id = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(v => v !== undefined)
      if (id === undefined) break
      cookie = `id=${id}`
      for (let cycle = 0; cycle < ctx.cyclesPerSession && !ctx.done(); cycle++) {
        await call('list streams', 'GET', '/apis/v2/streams', [200])
        await call('read stream', 'GET', `/apis/v2/streams/stream-${ctx.seeded.streamIds[ctx.index % ctx.seeded.streamIds.length]}`, [200])
        await call('read session', 'GET', '/apis/v2/session', [200])
        if (username === 'user') {
          await call('viewer may not create', 'POST', '/apis/v2/streams', [403], { name: 'nope' })
          continue
        }
        await call('read licence', 'GET', '/apis/v2/license', [200])
        const created = await call('create stream', 'POST', '/apis/v2/streams', [201],
          { name: `soak ${ctx.index}`, mode: 'iorouter', input: ctx.seeded.inputId, transcoder: null, outputs: [ctx.output] })
        if (created.status !== 201) continue
        const stream = String(created.json().uuid)
        await call('change stream', 'PUT', `/apis/v2/streams/stream-${stream}`, [200], { description: `cycle ${cycle}` })
        await call('start stream', 'PUT', `/apis/v2/streams/stream-${stream}/start`, [200])
        await waitFor(stream, 'running')
        await call('statistics', 'GET', `/apis/v2/streams/stream-${stream}/statistics`, [200])
        await call('running stream is locked', 'PUT', `/apis/v2/streams/stream-${stream}`, [409], { description: 'refused' })
        await call('stop stream', 'PUT', `/apis/v2/streams/stream-${stream}/stop`, [200])
        await waitFor(stream, 'stopped')
        await call('delete stream', 'DELETE', `/apis/v2/streams/stream-${stream}`, [204])
      }
      await call('logout', 'GET', '/apis/v2/logout', [204])
      await call('after logout', 'GET', '/apis/v2/session', [401])
      cookie = ''
    }
  } finally {
    await client.close()
  }
}

function record (tally: Tally, kind: 'unexpected' | 'errors', line: string): void {
  tally.counts[kind]++
  if (tally[kind].length < 20) tally[kind].push(line)
}
