// HTTP faults (issue 15): POST /_emulator/faults makes the device misbehave on purpose; the
// client sees each action over a real HTTPS port, and the request log shows what struck.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { ManualClock } from '../src/kernel/clock.ts'
import { loginHttps, send, startHttps } from './helpers/https.ts'

const API = '/apis/v2'

type Emu = Awaited<ReturnType<typeof startHttps>>
interface Fault { id: string, hits: number, remaining: number | null, probability: number }

async function started (t: Test, options: Parameters<typeof startHttps>[0] = {}): Promise<Emu> {
  const emu = await startHttps(options)
  t.teardown(() => emu.close())
  return emu
}

async function addFault (emu: Emu, body: unknown): Promise<Fault> {
  const res = await send(emu, 'POST', '/_emulator/faults', { body })
  if (res.status !== 201) throw new Error(`POST /_emulator/faults: ${res.status} ${res.text}`)
  return res.json() as Fault
}

async function faults (emu: Emu): Promise<Fault[]> {
  return ((await send(emu, 'GET', '/_emulator/faults')).json() as { faults: Fault[] }).faults
}

/** Waits, without a timer, until the emulator has received `n` requests struck by fault `id`. */
async function struck (emu: Emu, id: string, n = 1): Promise<void> {
  for (;;) {
    if ((await faults(emu)).find(f => f.id === id)?.hits === n) return
    await new Promise(resolve => setImmediate(resolve))
  }
}

t.test('a fixed delay: the answer comes only when the emulator\'s clock has moved by it', async t => {
  const clock = new ManualClock()
  const emu = await started(t, { clock })
  const cookie = await loginHttps(emu)
  const fault = await addFault(emu, { match: { method: 'GET', path: `${API}/streams` }, action: { type: 'delay', ms: 5000 } })
  let answered = false
  const pending = send(emu, 'GET', `${API}/streams`, { cookie }).then(res => { answered = true; return res })
  await struck(emu, fault.id)
  clock.advance(4999)
  await send(emu, 'GET', '/_emulator/health') // a round trip: had it been answered, it would be by now
  t.notOk(answered, 'no answer after 4999 ms')
  clock.advance(1)
  t.equal((await pending).status, 200, 'the real answer, after 5000 ms')
  t.match(emu.requests({ path: `${API}/streams` }), [{ status: 200, durationMs: 5000, fault: { id: fault.id, action: 'delay', delayMs: 5000 } }], 'the log shows the delay and the fault')
  t.equal((await send(emu, 'GET', `${API}/inputs`, { cookie })).status, 200, 'another route is not delayed')
})

t.test('a random delay is drawn from minMs..maxMs, the same draws for the same seed', async t => {
  const draws = async (): Promise<number[]> => {
    const clock = new ManualClock()
    const emu = await started(t, { clock, seed: 7 })
    const cookie = await loginHttps(emu)
    const fault = await addFault(emu, { match: { path: `${API}/inputs` }, action: { type: 'delay', minMs: 100, maxMs: 900 } })
    for (let i = 1; i <= 6; i++) {
      const pending = send(emu, 'GET', `${API}/inputs`, { cookie })
      await struck(emu, fault.id, i)
      clock.advance(900)
      t.equal((await pending).status, 200)
    }
    const entries = emu.requests({ path: `${API}/inputs` })
    t.ok(entries.every(r => r.durationMs >= (r.fault?.delayMs ?? Infinity)), 'each answer came after its delay')
    return entries.map(r => r.fault?.delayMs ?? -1)
  }
  const first = await draws()
  t.ok(first.every(ms => ms >= 100 && ms <= 900), `${first.join(', ')} within 100..900`)
  t.ok(new Set(first).size > 1, 'not all the same')
  t.same(await draws(), first, 'the same seed, the same delays')
})

t.test('an error status: the device envelope, the route never runs, the log shows it', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  const fault = await addFault(emu, { match: { method: 'POST', path: `${API}/inputs` }, action: { type: 'error', status: 503, message: 'busy, try later' } })
  const res = await send(emu, 'POST', `${API}/inputs`, { cookie, body: { name: 'cam', protocol: 'ts_udp', url: 'udp://239.1.2.3:5000' } })
  t.equal(res.status, 503)
  t.same(res.json(), { error: { type: 'ServiceUnavailable', message: 'busy, try later', details: [] } })
  t.equal(res.headers.server, 'nginx', 'with the device\'s headers')
  t.match(res.headers['content-type'], /^application\/json/)
  const inputs = (await send(emu, 'GET', `${API}/inputs`, { cookie })).json() as { input_list: Array<{ name: string }> }
  t.notOk(inputs.input_list.some(i => i.name === 'cam'), 'nothing was created')
  t.match(emu.requests({ method: 'POST', path: `${API}/inputs` }), [{ status: 503, fault: { id: fault.id, action: 'error' }, body: undefined }], 'struck before its body was read: no body')
  const teapot = await addFault(emu, { match: { path: `${API}/outputs` }, action: { type: 'error', status: 418 } })
  const other = await send(emu, 'GET', `${API}/outputs`, { cookie })
  t.equal(other.status, 418)
  t.match(other.json(), { error: { message: `injected fault ${teapot.id}`, details: [] } })
})

t.test('a reset connection: the client sees ECONNRESET; the log, no status', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  const fault = await addFault(emu, { match: { path: `${API}/streams` }, action: { type: 'reset' } })
  const error = await send(emu, 'GET', `${API}/streams`, { cookie }).then(() => undefined, (e: unknown) => e as { code?: string })
  t.equal(error?.code, 'ECONNRESET')
  t.match(emu.requests({ path: `${API}/streams` }), [{ status: null, fault: { id: fault.id, action: 'reset' }, user: 'haiadmin' }])
  t.equal((await send(emu, 'GET', `${API}/inputs`, { cookie })).status, 200, 'the next connection works')
})

t.test('an empty reply: the connection closes without a byte', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  const fault = await addFault(emu, { match: { path: `${API}/streams` }, action: { type: 'empty' } })
  const error = await send(emu, 'GET', `${API}/streams`, { cookie }).then(() => undefined, (e: unknown) => e as { code?: string, message?: string })
  t.equal(error?.code, 'UND_ERR_SOCKET')
  t.match(error?.message, /other side closed/)
  t.match(emu.requests({ path: `${API}/streams` }), [{ status: null, fault: { id: fault.id, action: 'empty' } }])
})

t.test('a dribbled body: chunkBytes at a time, one chunk per intervalMs of the emulator\'s clock', async t => {
  const clock = new ManualClock()
  const emu = await started(t, { clock })
  const cookie = await loginHttps(emu)
  const expected = (await send(emu, 'GET', `${API}/inputs`, { cookie })).text
  await addFault(emu, { match: { path: `${API}/inputs` }, action: { type: 'dribble', chunkBytes: 64, intervalMs: 250 } })
  const res = await request(emu.url + `${API}/inputs`, { headers: { cookie }, dispatcher: emu.agent })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], String(Buffer.byteLength(expected)), 'the length is announced')
  const chunks: Buffer[] = []
  const reader = res.body[Symbol.asyncIterator]()
  for (;;) {
    const next = reader.next()
    const { value, done } = await next
    if (done === true) break
    chunks.push(value as Buffer)
    // The next chunk is sent only when the clock moves.
    clock.advance(250)
  }
  t.equal(Buffer.concat(chunks).toString(), expected, 'the whole answer, unchanged')
  const count = Math.ceil(Buffer.byteLength(expected) / 64)
  t.ok(count > 3, `${count} chunks`)
  t.ok(chunks.every(c => c.length <= 64), 'no chunk over chunkBytes')
  t.equal(emu.requests({ path: `${API}/inputs` }).at(-1)?.durationMs, (count - 1) * 250, 'the log shows the time it took')
})

t.test('times: a fault strikes that many requests, then the device answers normally', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  const fault = await addFault(emu, { match: { path: `${API}/streams` }, action: { type: 'error', status: 500 }, times: 2 })
  t.match(fault, { hits: 0, remaining: 2, times: 2, probability: 1 })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await send(emu, 'GET', `${API}/streams`, { cookie })).status)
  t.same(statuses, [500, 500, 200, 200])
  t.match(await faults(emu), [{ id: fault.id, hits: 2, remaining: 0 }])
})

t.test('probability: with a seed, the same requests fail on two runs', async t => {
  const run = async (): Promise<number[]> => {
    const emu = await started(t, { seed: 42 })
    const cookie = await loginHttps(emu)
    await addFault(emu, { match: { method: 'GET' }, action: { type: 'error', status: 502 }, probability: 0.5 })
    const statuses = []
    for (let i = 0; i < 24; i++) statuses.push((await send(emu, 'GET', `${API}/streams`, { cookie })).status)
    return statuses
  }
  const first = await run()
  t.ok(first.includes(502) && first.includes(200), `some fail, some pass: ${first.join(' ')}`)
  t.same(await run(), first, 'the second run fails the same requests')
})

t.test('a matcher by user, by route template and by glob', async t => {
  const emu = await started(t)
  const admin = await loginHttps(emu)
  const operator = await loginHttps(emu, 'operator')
  await addFault(emu, { match: { user: 'operator' }, action: { type: 'error', status: 503 } })
  t.equal((await send(emu, 'GET', `${API}/streams`, { cookie: operator })).status, 503)
  t.equal((await send(emu, 'GET', `${API}/streams`, { cookie: admin })).status, 200)
  t.equal((await send(emu, 'DELETE', '/_emulator/faults')).status, 204)

  const id = ((await send(emu, 'GET', `${API}/streams`, { cookie: admin })).json() as { stream_list: Array<{ uuid: string }> }).stream_list[0]!.uuid
  await addFault(emu, { match: { path: `${API}/streams/stream-{id}` }, action: { type: 'error', status: 504 } })
  await addFault(emu, { match: { path: `${API}/inp*` }, action: { type: 'error', status: 507 } })
  t.equal((await send(emu, 'GET', `${API}/streams/stream-${id}`, { cookie: admin })).status, 504)
  t.equal((await send(emu, 'GET', `${API}/streams`, { cookie: admin })).status, 200)
  t.equal((await send(emu, 'GET', `${API}/inputs`, { cookie: admin })).status, 507)
})

t.test('faults never touch /_emulator, and a reset clears them', async t => {
  const emu = await started(t)
  const everything = await addFault(emu, { action: { type: 'error', status: 500 } })
  t.equal((await send(emu, 'GET', '/_emulator/health')).status, 200)
  t.equal((await send(emu, 'GET', '/_emulator/requests')).status, 200)
  t.equal((await send(emu, 'GET', '/_emulator/nothing')).status, 404)
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 500, 'the device\'s routes are struck')
  t.match(await faults(emu), [{ id: everything.id, hits: 1 }])
  t.equal((await send(emu, 'POST', '/_emulator/reset')).status, 200)
  t.same(await faults(emu), [], 'gone after a reset')
  t.equal((await send(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 204)
})

t.test('DELETE /_emulator/faults/<id> removes one fault', async t => {
  const emu = await started(t)
  const a = await addFault(emu, { match: { path: `${API}/streams` }, action: { type: 'reset' } })
  const b = await addFault(emu, { match: { path: `${API}/inputs` }, action: { type: 'empty' } })
  t.equal((await send(emu, 'DELETE', `/_emulator/faults/${a.id}`)).status, 204)
  t.same((await faults(emu)).map(f => f.id), [b.id])
  const again = await send(emu, 'DELETE', `/_emulator/faults/${a.id}`)
  t.equal(again.status, 404)
  t.match(again.json(), { error: { type: 'NotFound' } })
  const bad = await send(emu, 'DELETE', '/_emulator/faults/banana')
  t.equal(bad.status, 400)
  t.match(bad.json(), { error: { type: 'Validation', details: [{ field: 'faultId' }] } })
})

t.test('a bad fault is refused with 400 naming the field; an unknown action lists the valid ones', async t => {
  const emu = await started(t)
  const cases: Array<[unknown, string, RegExp?]> = [
    [{ match: {}, action: { type: 'explode' } }, 'action.type', /^action\.type must be one of delay, error, reset, empty, dribble$/],
    [{ action: {} }, 'action.type', /delay, error, reset, empty, dribble/],
    [{ match: {} }, 'action', /delay, error, reset, empty, dribble/],
    [{ action: 'reset' }, 'action'],
    [[], 'body'],
    [{ action: { type: 'reset' }, colour: 'red' }, 'colour'],
    [{ action: { type: 'reset', ms: 5 } }, 'action.ms'],
    [{ action: { type: 'delay' } }, 'action.minMs'],
    [{ action: { type: 'delay', ms: -1 } }, 'action.ms'],
    [{ action: { type: 'delay', ms: 5, minMs: 1 } }, 'action.ms'],
    [{ action: { type: 'delay', minMs: 500, maxMs: 100 } }, 'action.maxMs'],
    [{ action: { type: 'error' } }, 'action.status'],
    [{ action: { type: 'error', status: 200 } }, 'action.status'],
    [{ action: { type: 'error', status: 500, message: 5 } }, 'action.message'],
    [{ action: { type: 'dribble', chunkBytes: 0 } }, 'action.chunkBytes'],
    [{ action: { type: 'dribble', intervalMs: 1.5 } }, 'action.intervalMs'],
    [{ action: { type: 'reset' }, times: 0 }, 'times'],
    [{ action: { type: 'reset' }, probability: 1.5 }, 'probability'],
    [{ action: { type: 'reset' }, probability: '0.5' }, 'probability'],
    [{ match: { method: 'GET ME' }, action: { type: 'reset' } }, 'match.method'],
    [{ match: { path: 'streams' }, action: { type: 'reset' } }, 'match.path'],
    [{ match: { path: '/_emulator/health' }, action: { type: 'reset' } }, 'match.path'],
    [{ match: { user: '' }, action: { type: 'reset' } }, 'match.user'],
    [{ match: { host: 'x' }, action: { type: 'reset' } }, 'match.host']
  ]
  for (const [body, field, message] of cases) {
    const res = await send(emu, 'POST', '/_emulator/faults', { body })
    t.equal(res.status, 400, JSON.stringify(body))
    const envelope = res.json() as { error: { type: string, message: string, details: Array<{ field: string }> } }
    t.equal(envelope.error.type, 'Validation')
    t.same(envelope.error.details.map(d => d.field), [field], `names ${field}: ${envelope.error.message}`)
    if (message !== undefined) t.match(envelope.error.message, message)
  }
  t.same(await faults(emu), [], 'none was added')
  t.equal((await send(emu, 'POST', '/_emulator/faults', { body: 'not json' })).status, 400)
})

t.test('the fault routes are control routes: refused without the token and from another origin', async t => {
  const emu = await started(t, { controlToken: 'fault-token-1234' })
  const routes = [['POST', '/_emulator/faults'], ['GET', '/_emulator/faults'], ['DELETE', '/_emulator/faults'], ['DELETE', '/_emulator/faults/fault-1']] as const
  for (const [method, path] of routes) {
    const body = method === 'POST' ? { action: { type: 'reset' } } : undefined
    t.equal((await send(emu, method, path, { body })).status, 401, `${method} ${path} without the token`)
    t.equal((await send(emu, method, path, { body, headers: { 'x-kraken-control-token': 'fault-token-1234', origin: 'https://evil.example' } })).status, 403, `${method} ${path} from another origin`)
  }
  t.same(emu.app.kraken.faults.all(), [], 'nothing was added')
})
