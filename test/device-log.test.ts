// Logs (issue 22, kraken-api.md section 10) over a real HTTPS port: the system log and each
// stream's log as text — logins, configuration changes, stream transitions and errors as the
// emulator saw them — honouring `log_to_file`, bounded, never holding a password, passphrase or
// session id; each role; an unknown stream.
import t, { type Test } from 'tap'
import { loginHttps, send, startHttps, type HttpResult } from './helpers/https.ts'
import { SYSTEM_LOG_BYTES } from '../src/system/device-log.ts'

const API = '/apis/v2'
const LOG = `${API}/system/log`
const STREAM = '3ac33731-e7f5-4601-a7b4-09e2f2d45587' // Press Feed Bypass: stopped, log_to_file on
const RUNNING = '331df748-e675-4654-9e74-d83a19f7c36e' // UAV-1 720p to TOC: auto-start
const streamLog = (uuid: string) => `${API}/streams/stream-${uuid}/log`

function assertEnvelope (t: Test, res: HttpResult, status: number, type: string, label: string): void {
  t.equal(res.status, status, `${label}: ${status} (${res.text.slice(0, 200)})`)
  t.match(res.json(), { error: { type, message: String, details: Array } }, `${label}: the envelope`)
}

async function text (emulator: Awaited<ReturnType<typeof startHttps>>, cookie: string, path: string): Promise<string> {
  const res = await send(emulator, 'GET', path, { cookie })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return res.text
}

t.test('logins, configuration changes, transitions and errors; never a password, passphrase or session id', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const wrong = 'Wrong-Guess-77x'
  assertEnvelope(t, await send(emulator, 'POST', `${API}/login`, { body: { username: 'haiadmin', password: wrong } }), 401, 'SessionAuthentication', 'a failed login')
  const forged = 'mallory\n2026-01-01T00:00:00+00:00 kraken auth: login \'haiadmin\''
  await send(emulator, 'POST', `${API}/login`, { body: { username: forged, password: wrong } })
  const admin = await loginHttps(emulator)
  const sessionId = admin.slice('id='.length)

  const newPassword = 'Operator!Passw0rd-2031'
  const changed = await send(emulator, 'PUT', `${API}/accounts/account-operator/password`, { cookie: admin, body: { new_password: newPassword } })
  t.equal(changed.status, 204, changed.text)
  const passphrase = 'Hush-Passphrase-4711'
  const refused = await send(emulator, 'POST', `${API}/inputs`, {
    cookie: admin,
    body: { name: 'srt-in', protocol: 'ts_srt', srt_mode: 'listener', srt_port: 5000, srt_encryption: 'none', srt_passphrase: passphrase }
  })
  t.equal(refused.status, 400, refused.text)
  t.equal((await send(emulator, 'PUT', `${API}/streams/stream-${RUNNING}/stop`, { cookie: admin })).status, 200)
  t.equal((await send(emulator, 'PUT', `${API}/streams/stream-${STREAM}`, { cookie: admin, body: { description: 'renamed feed' } })).status, 200)

  const res = await send(emulator, 'GET', LOG, { cookie: admin })
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/plain; charset=utf-8/)
  t.match(res.headers['content-disposition'], /attachment; filename="system.log"/)
  const log = res.text
  const line = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2} kraken-kit-01 [a-z]+: .+$/
  t.ok(log.trimEnd().split('\n').every(l => line.test(l)), 'every line: time stamp, host, facility, text')
  t.match(log, /auth: login failed for 'haiadmin' from 127\.0\.0\.1: 401 SessionAuthentication/)
  t.match(log, /auth: login failed for 'mallory 2026-01-01T00:00:00\+00:00 kraken auth: login 'haiadmin'' from/, 'a line break in a name cannot forge a line')
  t.match(log, /auth: login 'haiadmin' \(Administrator\) from 127\.0\.0\.1/)
  t.match(log, /config: haiadmin PUT \/apis\/v2\/accounts\/account-operator\/password: 204/)
  t.match(log, /error: haiadmin POST \/apis\/v2\/inputs: 400 Validation: .*srt_passphrase/)
  t.match(log, new RegExp(`stream: stream 'UAV-1 720p to TOC' ${RUNNING}: stopped -> starting`), 'the auto-start at boot')
  t.match(log, new RegExp(`stream: stream 'UAV-1 720p to TOC' ${RUNNING}: running -> stopping`))
  t.match(log, new RegExp(`stream: stream 'UAV-1 720p to TOC' ${RUNNING}: stopping -> stopped`))
  t.match(log, new RegExp(`config: haiadmin PUT /apis/v2/streams/stream-${STREAM}: 200`))
  for (const [what, secret] of [['the wrong password', wrong], ['the admin password', 'krakenapi'], ['the new password', newPassword], ['the passphrase', passphrase], ['the session id', sessionId]]) {
    t.notOk(log.includes(secret ?? ''), `${what} is not in the log`)
  }

  const mine = await text(emulator, admin, streamLog(STREAM))
  t.match(mine, new RegExp(`config: haiadmin PUT /apis/v2/streams/stream-${STREAM}: 200`), 'the stream\'s log has its change')
  t.notMatch(mine, /UAV-1|login/, 'and nothing of other streams or logins')
})

t.test('a stream\'s log is written only while its log_to_file is on; it goes with the stream', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const put = async (body: unknown) => t.equal((await send(emulator, 'PUT', `${API}/streams/stream-${STREAM}`, { cookie: admin, body })).status, 200)
  const act = async (action: string) => t.equal((await send(emulator, 'PUT', `${API}/streams/stream-${STREAM}/${action}`, { cookie: admin })).status, 200, action)

  await put({ log_to_file: false })
  await act('start')
  await act('stop')
  const off = await text(emulator, admin, streamLog(STREAM))
  t.notMatch(off, /starting|running|stopping/, 'logs off: no transition in the stream\'s log')
  t.match(await text(emulator, admin, LOG), new RegExp(`${STREAM}: stopped -> starting`), 'the system log still has them')

  await put({ log_to_file: true }) // "Enable Logs and Restart Stream"
  await act('start')
  const on = await text(emulator, admin, streamLog(STREAM))
  t.match(on, /stream: stopped -> starting/)
  t.match(on, /stream: starting -> running/)
  t.match(on, new RegExp(`config: haiadmin PUT /apis/v2/streams/stream-${STREAM}: 200`), 'turning logs on is the first thing it logs')
  t.equal(on.match(/stopped -> starting/g)?.length, 1, 'only the start made with logs on')
  await act('stop')

  t.equal((await send(emulator, 'DELETE', `${API}/streams/stream-${STREAM}`, { cookie: admin })).status, 204)
  assertEnvelope(t, await send(emulator, 'GET', streamLog(STREAM), { cookie: admin }), 404, 'NotFound', 'a deleted stream\'s log')
})

t.test('each role reads the logs (the contract: every role reads everything); no session is refused; an unknown stream is 404', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const operator = await loginHttps(emulator, 'operator')
  const viewer = await loginHttps(emulator, 'user')
  for (const [who, cookie] of [['Operator', operator], ['Viewer', viewer]] as const) {
    const system = await send(emulator, 'GET', LOG, { cookie })
    t.equal(system.status, 200, `${who}: system log`)
    t.match(system.text, /auth: login 'operator' \(Operator\)/, `${who}: with the logins`)
    t.equal((await send(emulator, 'GET', streamLog(STREAM), { cookie })).status, 200, `${who}: stream log`)
  }
  assertEnvelope(t, await send(emulator, 'GET', LOG), 401, 'SessionAuthentication', 'no session: system log')
  assertEnvelope(t, await send(emulator, 'GET', streamLog(STREAM)), 401, 'SessionAuthentication', 'no session: stream log')
  assertEnvelope(t, await send(emulator, 'GET', streamLog('00000000-0000-4000-8000-000000000000'), { cookie: operator }), 404, 'NotFound', 'an unknown stream')
  const bare = await send(emulator, 'GET', `${API}/streams/${STREAM}/log`, { cookie: operator })
  t.equal(bare.status, 200, 'the bare id form of the path answers too (kraken-api.md section 3)')
  t.match(bare.headers['content-type'], /^text\/plain/)
  assertEnvelope(t, await send(emulator, 'POST', LOG, { cookie: operator, body: {} }), 405, 'MethodNotAllowed', 'the log is read-only')
})

t.test('the system log keeps its newest lines within its bound; a reset clears it', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const first = (await text(emulator, admin, LOG)).split('\n')[0] ?? ''
  // Many refused writes, each a line (sent in-process: thousands of HTTPS round trips add nothing here).
  const cookie = admin
  for (let i = 0; i < 3000; i++) {
    const res = await emulator.app.inject({ method: 'PUT', url: `${API}/system/datetime`, headers: { cookie, 'content-type': 'application/json' }, payload: JSON.stringify({ timezone: `Nowhere/Zone_${i}` }) })
    if (res.statusCode !== 400) throw new Error(`write ${i}: ${res.statusCode}`)
  }
  const log = await text(emulator, admin, LOG)
  t.ok(Buffer.byteLength(log) <= SYSTEM_LOG_BYTES, `${Buffer.byteLength(log)} bytes, within ${SYSTEM_LOG_BYTES}`)
  t.ok(Buffer.byteLength(log) > SYSTEM_LOG_BYTES / 2, 'and full enough to have dropped lines')
  t.notOk(log.includes(first), 'the oldest line went')
  t.match(log, /Nowhere\/Zone_2999'?/, 'the newest line is there')
  t.match(log.split('\n')[0], /^\d{4}-.* kraken-kit-01 [a-z]+: /, 'whole lines only')

  t.equal((await send(emulator, 'POST', '/_emulator/reset', { headers: { 'x-kraken-control-token': emulator.controlToken ?? '' } })).status, 200)
  const fresh = await loginHttps(emulator)
  t.notMatch(await text(emulator, fresh, LOG), /Nowhere/, 'a reset clears the log')
})

t.test('a stream that falls to error is logged with its reason, in the system log and its own', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const fault = await send(emulator, 'POST', '/_emulator/device/events', { body: { type: 'encoder-failure', stream: RUNNING }, headers: { 'x-kraken-control-token': emulator.controlToken ?? '' } })
  t.ok(fault.status >= 200 && fault.status < 300, fault.text)
  t.match(await text(emulator, admin, LOG), new RegExp(`error: stream 'UAV-1 720p to TOC' ${RUNNING}: running -> error \\(encoder failure: the encoder process stopped\\)`))
  t.match(await text(emulator, admin, streamLog(RUNNING)), /error: running -> error \(encoder failure: the encoder process stopped\)/)
})
