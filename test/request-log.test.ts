// The request log (issue 15): every request to the device, bounded, secrets masked, queried over
// HTTPS (GET /_emulator/requests, /count, DELETE) and from startEmulator()'s handle.
import t, { type Test } from 'tap'
import { ManualClock } from '../src/kernel/clock.ts'
import { RequestExpectationError } from '../src/control/request-log-expect.ts'
import { loginHttps, send, startHttps, type HttpResult } from './helpers/https.ts'

const API = '/apis/v2'

type Emu = Awaited<ReturnType<typeof startHttps>>
interface Entry { seq: number, time: string, method: string, path: string, route: string | null, query: Record<string, unknown>, headers: Record<string, unknown>, body?: unknown, bodyTruncated?: boolean, status: number | null, durationMs: number, user: string | null, role: string | null }

async function started (t: Test, options: Parameters<typeof startHttps>[0] = {}): Promise<Emu> {
  const emu = await startHttps(options)
  t.teardown(() => emu.close())
  return emu
}

async function logged (emu: Emu, query = ''): Promise<{ requests: Entry[], dropped: number }> {
  const res = await send(emu, 'GET', `/_emulator/requests${query}`)
  if (res.status !== 200) throw new Error(`GET /_emulator/requests${query}: ${res.status} ${res.text}`)
  return res.json() as { requests: Entry[], dropped: number }
}

async function counted (emu: Emu, query: string): Promise<number> {
  const res = await send(emu, 'GET', `/_emulator/requests/count${query}`)
  if (res.status !== 200) throw new Error(`count${query}: ${res.status} ${res.text}`)
  return (res.json() as { count: number }).count
}

t.test('each request is logged: method, path as sent, route, query, status, duration, user, role, time on the clock', async t => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12))
  const emu = await started(t, { clock })
  const cookie = await loginHttps(emu)
  const list = await send(emu, 'GET', `${API}/streams?full=true`, { cookie })
  t.equal(list.status, 200)
  const streamId = (list.json() as { stream_list: Array<{ uuid: string }> }).stream_list[0]!.uuid
  await send(emu, 'GET', `${API}/streams/stream-${streamId}`, { cookie })
  await send(emu, 'GET', `${API}/nothing-here`, { cookie })
  await send(emu, 'GET', `${API}/streams`) // no session: 401

  const { requests } = await logged(emu)
  t.same(requests.map(r => [r.method, r.path, r.route, r.status]), [
    ['POST', `${API}/login`, `${API}/login`, 204],
    ['GET', `${API}/streams`, `${API}/streams`, 200],
    ['GET', `${API}/streams/stream-${streamId}`, `${API}/streams/stream-{streamId}`, 200],
    ['GET', `${API}/nothing-here`, null, 404],
    ['GET', `${API}/streams`, `${API}/streams`, 401]
  ], 'every request, none of the /_emulator ones')
  const get = requests[1]!
  t.same(get.query, { full: 'true' })
  t.equal(get.user, 'haiadmin')
  t.equal(get.role, 'Administrator')
  t.equal(get.time, '2026-03-01T12:00:00.000Z', 'arrival on the emulator\'s clock')
  t.equal(get.durationMs, 0, 'the manual clock did not move')
  t.equal(requests[4]!.user, null, 'no session, no user')
  t.same(requests.map(r => r.seq), [1, 2, 3, 4, 5])
})

t.test('each filter over HTTPS, and /count with the same filters', async t => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12))
  const emu = await started(t, { clock })
  const admin = await loginHttps(emu)
  const operator = await loginHttps(emu, 'operator')
  const streams = (await send(emu, 'GET', `${API}/streams`, { cookie: admin }).then(r => r.json())) as { stream_list: Array<{ uuid: string }> }
  const id = streams.stream_list[0]!.uuid
  clock.advance(60_000)
  const later = new Date(clock.now()).toISOString()
  await send(emu, 'GET', `${API}/streams/stream-${id}`, { cookie: operator })
  await send(emu, 'GET', `${API}/inputs`, { cookie: operator })
  await send(emu, 'POST', `${API}/inputs`, { cookie: operator, body: { name: 'cam', protocol: 'ts_udp', url: 'udp://239.1.2.3:5000' } })
  await send(emu, 'POST', `${API}/inputs`, { cookie: operator, body: { name: 'bad' } })
  await send(emu, 'GET', `${API}/no-such-thing`, { cookie: admin })
  await send(emu, 'GET', '/not-even-api')

  const cases: Array<[string, string[]]> = [
    ['?method=post', ['POST /apis/v2/login', 'POST /apis/v2/login', 'POST /apis/v2/inputs', 'POST /apis/v2/inputs']],
    ['?path=/apis/v2/streams/stream-{anyName}', [`GET /apis/v2/streams/stream-${id}`]],
    ['?path=/apis/v2/inputs', ['GET /apis/v2/inputs', 'POST /apis/v2/inputs', 'POST /apis/v2/inputs']],
    ['?path=/apis/v2/streams*', ['GET /apis/v2/streams']],
    ['?path=/apis/v2/streams/*', [`GET /apis/v2/streams/stream-${id}`]],
    ['?path=/apis/**', ['POST /apis/v2/login', 'POST /apis/v2/login', 'GET /apis/v2/streams', `GET /apis/v2/streams/stream-${id}`, 'GET /apis/v2/inputs', 'POST /apis/v2/inputs', 'POST /apis/v2/inputs', 'GET /apis/v2/no-such-thing']],
    ['?status=201', ['POST /apis/v2/inputs']],
    ['?status=4xx', ['POST /apis/v2/inputs', 'GET /apis/v2/no-such-thing', 'GET /not-even-api']],
    ['?user=operator', [`GET /apis/v2/streams/stream-${id}`, 'GET /apis/v2/inputs', 'POST /apis/v2/inputs', 'POST /apis/v2/inputs']],
    [`?since=${encodeURIComponent(later)}&method=GET`, [`GET /apis/v2/streams/stream-${id}`, 'GET /apis/v2/inputs', 'GET /apis/v2/no-such-thing', 'GET /not-even-api']],
    [`?since=${clock.now()}&status=2xx`, [`GET /apis/v2/streams/stream-${id}`, 'GET /apis/v2/inputs', 'POST /apis/v2/inputs']],
    ['?limit=2', ['GET /apis/v2/no-such-thing', 'GET /not-even-api']],
    ['?unmatched=true', ['GET /apis/v2/no-such-thing', 'GET /not-even-api']],
    ['?unmatched=false&user=admin', []],
    ['?user=operator&method=POST&status=400', ['POST /apis/v2/inputs']]
  ]
  for (const [query, expected] of cases) {
    const { requests } = await logged(emu, query)
    t.same(requests.map(r => `${r.method} ${r.path}`), expected, query)
    t.equal(await counted(emu, query), expected.length, `count${query}`)
  }
  t.equal(await counted(emu, ''), 9, 'every request')
})

t.test('DELETE /_emulator/requests and a reset empty the log', async t => {
  const emu = await started(t)
  await loginHttps(emu)
  t.equal(await counted(emu, ''), 1)
  t.equal((await send(emu, 'DELETE', '/_emulator/requests')).status, 204)
  t.equal(await counted(emu, ''), 0)
  await loginHttps(emu)
  t.equal((await send(emu, 'POST', '/_emulator/reset')).status, 200)
  t.equal(await counted(emu, ''), 0, 'reset cleared it')
  const after = await loginHttps(emu)
  t.equal((await logged(emu)).requests[0]!.seq, 3, 'sequence numbers are never reused')
  t.ok(after)
})

t.test('no password, passphrase or session id it used is anywhere in the log', async t => {
  const emu = await started(t, { controlToken: 'Control-Token-Secret-123' })
  const control = { 'x-kraken-control-token': 'Control-Token-Secret-123' }
  const adminCookie = await loginHttps(emu)
  const secrets = ['krakenapi', 'Control-Token-Secret-123', adminCookie.slice(3)]
  const alicePassword = 'Alice!Passw0rd-Secret1'
  const aliceNext = 'Alice!Passw0rd-Secret2'
  const inputPass = 'input-passphrase-secret'
  const outputPass = 'output-passphrase-secret'
  secrets.push(alicePassword, aliceNext, inputPass, outputPass)
  t.equal((await send(emu, 'POST', `${API}/accounts`, { cookie: adminCookie, body: { name: 'alice', role: 'Operator', state: 'Active', password: alicePassword } })).status, 201)
  const alice = await loginHttps(emu, 'alice', alicePassword)
  secrets.push(alice.slice(3))
  t.equal((await send(emu, 'PUT', `${API}/accounts/account-alice/password`, { cookie: alice, body: { current_password: alicePassword, new_password: aliceNext } })).status, 204)
  t.equal((await send(emu, 'POST', `${API}/inputs`, { cookie: adminCookie, body: { name: 'enc', protocol: 'ts_srt', srt_port: 9123, srt_encryption: 'aes256', srt_passphrase: inputPass } })).status, 201)
  t.equal((await send(emu, 'POST', `${API}/outputs`, { cookie: adminCookie, body: { name: 'enc-out', protocol: 'ts_srt', srt_mode: 'listener', srt_port: 9124, srt_encryption: 'aes128', srt_passphrase: outputPass } })).status, 201)
  // A wrong password and a query string carrying one are masked too.
  await send(emu, 'POST', `${API}/login`, { body: { username: 'haiadmin', password: 'krakenapi' } })
  await send(emu, 'GET', `${API}/streams?password=krakenapi`, { cookie: adminCookie, headers: { authorization: 'Bearer krakenapi' } })

  const res = await send(emu, 'GET', '/_emulator/requests', { headers: control })
  t.equal(res.status, 200)
  const journal = res.text
  for (const secret of secrets) t.notOk(journal.includes(secret), `${secret.slice(0, 6)}... is not in the log`)
  const requests = (res.json() as { requests: Entry[] }).requests
  t.equal(requests.length, 8, 'all requests are there')
  t.same(requests[0]!.body, { username: 'haiadmin', password: '***' }, 'the login body is kept, its password masked')
  t.match(requests[1]!.headers, { cookie: 'id=***' }, 'the cookie name stays, the session id goes')
  const input = requests.find(r => r.path === `${API}/inputs`)!
  t.match(input.body, { name: 'enc', srt_passphrase: '***' })
})

t.test('the ring keeps the newest --journal-size entries', async t => {
  const emu = await started(t, { journalSize: 5 })
  for (let i = 0; i < 8; i++) await send(emu, 'GET', `${API}/streams?n=${i}`)
  const { requests, dropped } = await logged(emu)
  t.same(requests.map(r => r.query), [3, 4, 5, 6, 7].map(n => ({ n: String(n) })), 'the oldest three are gone')
  t.equal(dropped, 3)
  t.equal(emu.app.kraken.requestLog.size, 5)
})

t.test('the ring stays within --journal-bytes; a body over 4 KB is cut and marked', async t => {
  const bound = 20_000
  const emu = await started(t, { journalBytes: bound })
  const cookie = await loginHttps(emu)
  const description = 'x'.repeat(6000)
  for (let i = 0; i < 10; i++) {
    await send(emu, 'POST', `${API}/inputs`, { cookie, body: { name: `big ${i}`, protocol: 'ts_udp', url: `udp://239.1.1.${i}:5000`, description } })
  }
  const log = emu.app.kraken.requestLog
  t.ok(log.byteEstimate <= bound, `${log.byteEstimate} bytes kept, bound ${bound}`)
  const { requests, dropped } = await logged(emu)
  t.ok(dropped > 0 && requests.length < 11, `${requests.length} kept, ${dropped} dropped`)
  const last = requests.at(-1)!
  t.equal(last.bodyTruncated, true)
  t.type(last.body, 'string')
  t.equal((last.body as string).length, 4096)
  t.ok((last.body as string).startsWith('{"name":"big 9"'), 'the start of the masked JSON')
  t.ok(Buffer.byteLength(JSON.stringify(requests)) <= bound, 'what is served stays within the bound too')
})

t.test('--journal-size 0 turns the log off', async t => {
  const emu = await started(t, { journalSize: 0 })
  await loginHttps(emu)
  t.same(await logged(emu), { requests: [], dropped: 0 })
})

t.test('bad filters are refused with 400 naming the field', async t => {
  const emu = await started(t)
  const cases: Array<[string, string]> = [
    ['?status=abc', 'status'],
    ['?status=600', 'status'],
    ['?limit=0', 'limit'],
    ['?limit=ten', 'limit'],
    ['?since=yesterday', 'since'],
    ['?unmatched=yes', 'unmatched'],
    ['?method=G3T', 'method'],
    ['?path=streams', 'path'],
    ['?colour=red', 'colour']
  ]
  for (const [query, field] of cases) {
    for (const route of ['/_emulator/requests', '/_emulator/requests/count']) {
      const res = await send(emu, 'GET', route + query)
      t.equal(res.status, 400, `${route}${query}`)
      const body = res.json() as { error: { type: string, details: Array<{ field: string }> } }
      t.equal(body.error.type, 'Validation')
      t.ok(body.error.details.some(d => d.field === field), `names ${field}: ${res.text}`)
    }
  }
})

t.test('the log routes are control routes: refused without the token and from another origin', async t => {
  const emu = await started(t, { controlToken: 'the-token-1234' })
  for (const [method, path] of [['GET', '/_emulator/requests'], ['GET', '/_emulator/requests/count'], ['DELETE', '/_emulator/requests']] as const) {
    const none = await send(emu, method, path)
    t.equal(none.status, 401, `${method} ${path} without the token`)
    t.match(none.json(), { error: { type: 'ControlAuthentication' } })
    const foreign = await send(emu, method, path, { headers: { 'x-kraken-control-token': 'the-token-1234', origin: 'https://evil.example' } })
    t.equal(foreign.status, 403, `${method} ${path} from another origin`)
    t.equal((await send(emu, method, path, { headers: { 'x-kraken-control-token': 'the-token-1234' } })).status, method === 'DELETE' ? 204 : 200)
  }
})

t.test('emu.requests(filter) and emu.expectRequest(filter, { times })', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  await send(emu, 'GET', `${API}/streams`, { cookie })
  await send(emu, 'GET', `${API}/streams`, { cookie })
  await send(emu, 'POST', `${API}/inputs`, { cookie, body: { name: 'cam', protocol: 'ts_udp', url: 'udp://239.1.2.3:5000' } })

  t.same(emu.requests({ method: 'GET' }).map(r => r.path), [`${API}/streams`, `${API}/streams`])
  t.equal(emu.expectRequest({ method: 'GET', path: `${API}/streams` }, { times: 2 }).length, 2)
  t.equal(emu.expectRequest({ path: `${API}/inputs`, status: 201 })[0]!.user, 'haiadmin')

  let thrown: unknown
  try {
    emu.expectRequest({ method: 'PUT', path: `${API}/inputs/input-{inputId}` }, { times: 1 })
  } catch (error) {
    thrown = error
  }
  t.ok(thrown instanceof RequestExpectationError, 'a RequestExpectationError')
  const message = (thrown as Error).message
  t.match(message, /^expected 1 request matching \{ method=PUT, path=\/apis\/v2\/inputs\/input-\{inputId\} \}, found 0 among 4 logged$/m)
  t.match(message, /nearest requests:\n {2}#4 \S+ POST \/apis\/v2\/inputs -> 201 \(haiadmin\)/, `the nearest first: ${message}`)
  t.throws(() => emu.expectRequest({ method: 'GET' }, { times: 1 }), /expected 1 request matching \{ method=GET \}, found 2[\s\S]*matching:/)
})

t.test('a request refused by the parser of its body is logged without a body', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  const res: HttpResult = await send(emu, 'POST', `${API}/inputs`, { cookie, body: '{"password": "krakenapi", broken' })
  t.equal(res.status, 400)
  const entry = (await logged(emu)).requests.at(-1)!
  t.equal(entry.status, 400)
  t.notOk('body' in entry)
})

t.test('a body nested deeper than the log copies is refused with 400, logged with a marker, its secrets still masked', async t => {
  const emu = await started(t)
  const cookie = await loginHttps(emu)
  // 100,000 levels: a recursive copy would exhaust the stack and answer 500.
  const deep = '['.repeat(100_000) + ']'.repeat(100_000)
  const res = await send(emu, 'POST', `${API}/accounts`, { cookie, body: `{"name":"deep","role":"Operator","state":${deep},"password":"Deep!Secret-Passw0rd"}` })
  t.equal(res.status, 400, 'the device answers the bad body, not a 500')
  const entry = (await logged(emu)).requests.at(-1)!
  t.equal(entry.status, 400)
  t.notOk(JSON.stringify(entry).includes('Deep!Secret-Passw0rd'), 'the password next to it is masked')
  t.match(JSON.stringify(entry.body), /nested too deep for the log/, 'the deep part is replaced by a marker')
})
