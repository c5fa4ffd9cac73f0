// Issue 24: record a device (a second emulator stands in for a real Kraken), import the capture
// as a fixture, and report parity. In process: the subcommands run through runCaptureCommand, the
// same function the command line calls; test/readme-recording.test.ts runs the README's commands.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Agent, fetch } from 'undici'
import { startEmulator, type RunningEmulator } from '../src/start-emulator.ts'
import { runCaptureCommand, type CommandIo } from '../src/capture/capture-cli.ts'
import { readCapture, type Capture } from '../src/capture/capture-format.ts'
import { loadFixture } from '../src/fixtures.ts'
import { startAlteringProxy, type AlteringProxy } from './helpers/altering-proxy.ts'

const ADMIN_PASSWORD = 'Lab-Kraken-Admin-7391!'
const OPERATOR_PASSWORD = 'Lab-Kraken-Oper-5522#'
const NEW_OPERATOR_PASSWORD = 'Changed-Oper-Pass-8812$'
const PASSPHRASE = 'srt-secret-passphrase-4471'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const TOKEN = /^[A-Za-z0-9]{40}$/

const work = mkdtempSync(path.join(tmpdir(), 'kraken-capture-test-'))
const file = (name: string) => path.join(work, name)
const insecure = new Agent({ connect: { rejectUnauthorized: false } })
const proxies: AlteringProxy[] = []
const devices: RunningEmulator[] = []
t.teardown(async () => {
  for (const p of proxies) await p.close()
  for (const d of devices) await d.close()
  await insecure.close()
})

/** Runs a subcommand in process; resolves with its status and what it printed. */
async function run (argv: string[], stop?: Promise<void>, onOut?: (text: string) => void): Promise<{ status: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const io: CommandIo = { out: s => { out += s; onOut?.(s) }, err: s => { err += s }, stop: () => stop ?? Promise.resolve() }
  const status = await runCaptureCommand(argv, io)
  return { status, out, err }
}

/** A stand-in device: an emulator behind a proxy that may alter its answers (and notes its cookies). */
async function standIn (options: Parameters<typeof startEmulator>[0] = {}): Promise<AlteringProxy> {
  const device = await startEmulator({ transitionMs: 0, adminPassword: ADMIN_PASSWORD, operatorPassword: OPERATOR_PASSWORD, ...options })
  devices.push(device)
  const proxy = await startAlteringProxy(device.url)
  proxies.push(proxy)
  return proxy
}

/** Every file written under `work` (captures, fixtures, reports, baselines). */
function everyFile (dir = work): string[] {
  return readdirSync(dir).flatMap(name => {
    const full = path.join(dir, name)
    return statSync(full).isDirectory() ? everyFile(full) : [full]
  })
}

const secretsSeen = new Set<string>([ADMIN_PASSWORD, OPERATOR_PASSWORD, NEW_OPERATOR_PASSWORD, PASSPHRASE])
const identical = standIn()

t.test('the same device: record through the proxy and with --walk, import, and parity finds no difference', async t => {
  const device = await identical
  // A client talks to the device through the recorder.
  let stop!: () => void
  const stopped = new Promise<void>(resolve => { stop = resolve })
  let ready!: (url: string) => void
  const proxyUrl = new Promise<string>(resolve => { ready = resolve })
  const recording = run(['record', '--target', device.url, '--insecure', '--port', '0', '--out', file('session.json')], stopped, s => {
    const m = /point your client at (https:\/\/\S+?);/.exec(s)
    if (m !== null) ready(m[1]!)
  })
  const base = await proxyUrl
  const call = async (method: string, p: string, body?: unknown, cookie?: string) => {
    const res = await fetch(base + p, {
      method,
      dispatcher: insecure,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie === undefined ? {} : { cookie }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) as Record<string, unknown> }
  }
  const login = await call('POST', '/apis/v2/login', { username: 'haiadmin', password: ADMIN_PASSWORD })
  t.equal(login.status, 204, 'the client logs in through the recorder')
  const id = /(?:^|,\s*)id=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1]
  t.match(id, UUID, 'and gets the device\'s real session cookie back')
  const cookie = `id=${id!}`
  t.equal((await call('GET', '/apis/v2/streams', undefined, cookie)).status, 200)
  const created = await call('POST', '/apis/v2/inputs', { name: 'recorded SRT input', protocol: 'ts_srt', srt_mode: 'listener', srt_port: 9555, srt_encryption: 'aes128', srt_passphrase: PASSPHRASE }, cookie)
  t.equal(created.status, 201, 'a write goes through')
  const uuid = String(created.json?.uuid)
  t.equal((await call('GET', `/apis/v2/inputs/input-${uuid}`, undefined, cookie)).status, 200)
  t.equal((await call('PUT', `/apis/v2/inputs/input-${uuid}`, { name: 'recorded SRT input, renamed' }, cookie)).status, 200)
  t.equal((await call('PUT', '/apis/v2/accounts/account-operator/password', { new_password: NEW_OPERATOR_PASSWORD }, cookie)).status, 204)
  t.equal((await call('DELETE', `/apis/v2/inputs/input-${uuid}`, undefined, cookie)).status, 204)
  t.equal((await call('GET', '/apis/v2/logout', undefined, cookie)).status, 204)
  stop()
  const recorded = await recording
  t.equal(recorded.status, 0, recorded.err)
  t.match(recorded.out, /: 8 exchanges written to/)
  const session = readCapture(file('session.json'))
  t.equal(session.format, 'kraken-capture/1')
  t.same(session.exchanges.map(e => `${e.request.method} ${e.request.path.replace(uuid, '{id}')} ${e.response?.status ?? ''}`), [
    'POST /apis/v2/login 204', 'GET /apis/v2/streams 200', 'POST /apis/v2/inputs 201', 'GET /apis/v2/inputs/input-{id} 200',
    'PUT /apis/v2/inputs/input-{id} 200', 'PUT /apis/v2/accounts/account-operator/password 204', 'DELETE /apis/v2/inputs/input-{id} 204', 'GET /apis/v2/logout 204'
  ], 'every exchange kept, in order')
  t.ok(session.exchanges.every(e => e.durationMs >= 0 && !Number.isNaN(Date.parse(e.time))), 'with its time and duration')
  t.same((session.exchanges[2]!.response!.body?.json as { name: string }).name, 'recorded SRT input', 'and its answer')
  const masked = session.exchanges[0]!.response!.headers['set-cookie'] as string[]
  const maskedId = /^id=([^;]+)/.exec(masked.find(c => c.startsWith('id='))!)![1]!
  t.match(maskedId, UUID, 'the session id is masked as another UUID v4')
  t.not(maskedId, id)
  t.equal(session.exchanges[1]!.request.headers.cookie, `id=${maskedId}`, 'the same stand-in wherever the cookie appears')
  const loginBody = session.exchanges[0]!.request.body?.json as { password: string }
  t.equal(loginBody.password.length, ADMIN_PASSWORD.length, 'a password keeps its length')
  t.match(loginBody.password, /^[A-Z][a-z]{2}-[A-Z][a-z]{5}-[A-Z][a-z]{4}-\d{4}!$/, 'and its letters, digits and signs in place')

  const walk = await run(['record', '--target', device.url, '--insecure', '--walk', '--password', ADMIN_PASSWORD, '--out', file('walk.json')])
  t.equal(walk.status, 0, walk.err)
  const walked = readCapture(file('walk.json'))
  t.equal(walked.mode, 'walk')
  t.ok(walked.exchanges.slice(1, -1).every(e => e.request.method === 'GET'), 'the walk only reads')
  t.equal(walked.exchanges.at(-1)!.request.path, '/apis/v2/logout', 'and logs out last')
  const paths = new Set(walked.exchanges.map(e => e.request.path))
  for (const p of ['/apis/v2/streams', '/apis/v2/systeminfo', '/apis/v2/system/network', '/apis/v2/license', '/apis/v2/system/metric/snapshot', '/apis/v2/system/services/webserver', '/apis/v2/session']) t.ok(paths.has(p), `reads ${p}`)
  t.ok([...paths].some(p => /^\/apis\/v2\/streams\/stream-[0-9a-f-]{36}\/statistics$/.test(p)), 'each stream\'s statistics')
  t.ok([...paths].some(p => /^\/apis\/v2\/metadata\/metadata-[0-9a-f-]{36}\/relays\/relay-[0-9a-f-]{36}$/.test(p)), 'and nested items')
  // The one refusal: the CSR of a certificate that has none (read, like everything, only to see).
  t.same(walked.exchanges.filter(e => e.response === null || e.response.status >= 400).map(e => `${e.request.path} ${e.response?.status ?? ''}`), ['/apis/v2/certificates/certificate-default/csr 404'], 'every other read answered')

  const imported = await run(['import-capture', file('walk.json'), '--fixture', 'lab-kraken', '--dir', file('lab-kraken')])
  t.equal(imported.status, 0, imported.err)
  t.match(imported.out, /not represented .*\n.*statistics/s, 'what a fixture cannot hold is listed')
  const fixture = loadFixture(file('lab-kraken'))
  const real = devices[0]!.app.kraken.store
  for (const collection of ['streams', 'inputs', 'outputs', 'transcoders', 'metadata', 'metadata.relays']) {
    t.same(fixture.collections[collection]!.map(i => i.uuid).sort(), real.list(collection).map(i => i.uuid).sort(), `${collection}: the device's objects, with their ids`)
  }
  t.same(fixture.singletons.network, real.singleton('network'), 'the NICs and network settings')
  t.equal((fixture.singletons.license as { max_encoders: number }).max_encoders, (real.singleton('license') as { max_encoders: number }).max_encoders, 'the licence')
  const seeded = await startEmulator({ fixture: file('lab-kraken'), transitionMs: 0 })
  t.teardown(() => seeded.close())
  t.equal(seeded.app.kraken.store.list('streams').length, real.list('streams').length, 'an emulator starts from it (the fixture passes every check)')

  for (const capture of ['walk', 'session']) {
    const parity = await run(['parity', file(`${capture}.json`), '--markdown', file(`${capture}.md`), '--html', file(`${capture}.html`)])
    t.equal(parity.status, 0, `${capture}: ${parity.out}${parity.err}`)
    t.match(parity.out, /, 0 different\n0 difference\(s\)/, `${capture}: no difference`)
    t.match(readFileSync(file(`${capture}.md`), 'utf8'), /- differences: 0 /)
    t.match(readFileSync(file(`${capture}.html`), 'utf8'), /<h2>Differences<\/h2>\n<p>None.<\/p>/)
  }
  for (const v of device.cookieValues) secretsSeen.add(v)
})

t.test('a device that differs: the report lists each difference once, and the baseline makes the next run pass', async t => {
  const device = await standIn({ sessionIdFormat: 'token' })
  device.alteration = {
    json: (p, body) => {
      if (p === '/apis/v2/systeminfo') {
        const { model, ...rest } = body
        return { ...rest, model_name: model }
      }
      if (p === '/apis/v2/license') return { ...body, max_encoders: String(body.max_encoders) }
      return body
    },
    setCookie: line => line.startsWith('id=') ? line.replace('SameSite=Strict', 'SameSite=Lax') : line
  }
  const walk = await run(['record', '--target', device.url, '--insecure', '--walk', '--password', ADMIN_PASSWORD, '--out', file('differs.json')])
  t.equal(walk.status, 0, walk.err)
  const capture: Capture = readCapture(file('differs.json'))
  const setCookie = (capture.exchanges[0]!.response!.headers['set-cookie'] as string[]).find(c => c.startsWith('id='))!
  t.match(/^id=([^;]+)/.exec(setCookie)![1], TOKEN, 'a 40-character token session id is masked as another 40-character token')

  const first = await run(['parity', file('differs.json'), '--markdown', file('differs.md'), '--html', file('differs.html'), '--baseline', file('known.json')].filter((_a, i) => i < 6))
  t.equal(first.status, 1, 'new differences: exit status 1')
  const md = readFileSync(file('differs.md'), 'utf8')
  const rows = md.split('\n').filter(l => l.startsWith('| **new** |'))
  t.same(rows.sort(), [
    '| **new** | GET /apis/v2/license | type | `$.max_encoders` | string | number | #' + rowSeq(capture, '/apis/v2/license') + ' |',
    '| **new** | GET /apis/v2/systeminfo | key set | `$` | only here: model_name | only here: model | #' + rowSeq(capture, '/apis/v2/systeminfo') + ' |',
    `| **new** | cookie id | cookie | \`id: SameSite\` | lax | strict | #1, #${capture.exchanges.length} |`,
    '| **new** | cookie id | cookie | `id: value` | 40-character token | UUID | #1 |'
  ].sort(), 'exactly the four differences made, once each')
  const html = readFileSync(file('differs.html'), 'utf8')
  t.match(html, /<code>GET \/apis\/v2\/systeminfo<\/code><\/h3><div class="sides"><div><h4>device<\/h4><pre>[^<]*(<(?!\/pre)[^<]*)*<del>[^<]*&quot;model_name&quot;[^]*?<h4>emulator<\/h4><pre>[^]*?<ins>[^<]*&quot;model&quot;/, 'the HTML shows device and emulator side by side, the differing lines marked')

  const written = await run(['parity', file('differs.json'), '--markdown', file('differs.md'), '--baseline', file('known.json'), '--write-baseline'])
  t.equal(written.status, 0, 'writing the baseline succeeds')
  t.equal((JSON.parse(readFileSync(file('known.json'), 'utf8')) as { differences: string[] }).differences.length, 4)
  const again = await run(['parity', file('differs.json'), '--markdown', file('differs-again.md'), '--baseline', file('known.json')])
  t.equal(again.status, 0, `with the baseline, the same differences pass: ${again.out}`)
  t.match(again.out, /4 difference\(s\), 0 not in the baseline/)
  t.match(again.out, /by endpoint \(compared \/ identical \/ different\):\n(.*\n)*  GET \/apis\/v2\/license  1 \/ 0 \/ 1\n(.*\n)*  GET \/apis\/v2\/streams  1 \/ 1 \/ 0\n/, 'the summary counts by endpoint')

  // One more difference, not in the baseline: the run fails again, naming only it as new.
  const before = device.alteration.json!
  device.alteration.json = (p, body) => p === '/apis/v2/system/network' ? { ...before(p, body), mtu_default: 1500 } : before(p, body)
  t.equal((await run(['record', '--target', device.url, '--insecure', '--walk', '--password', ADMIN_PASSWORD, '--out', file('differs-more.json')])).status, 0)
  const more = await run(['parity', file('differs-more.json'), '--markdown', file('differs-more.md'), '--baseline', file('known.json')])
  t.equal(more.status, 1, 'a new difference fails the run')
  t.match(more.out, /5 difference\(s\), 1 not in the baseline\n(.*\n)*  NEW {3}GET \/apis\/v2\/system\/network: key set \$: device only here: mtu_default/)
  for (const v of device.cookieValues) secretsSeen.add(v)
})

function rowSeq (capture: Capture, p: string): number {
  return capture.exchanges.find(e => e.request.path === p)!.seq
}

t.test('bad input: a clear message and status 2, nothing written', async t => {
  const notCapture = file('not-a-capture.json')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(notCapture, JSON.stringify({ format: 'kraken-capture/9', exchanges: [] }))
  const cases: Array<[string[], RegExp]> = [
    [['parity', notCapture], /"format" is "kraken-capture\/9", this release reads "kraken-capture\/1"/],
    [['parity', file('missing.json')], /ENOENT/],
    [['import-capture', notCapture, '--fixture', 'x'], /kraken-capture\/9/],
    [['import-capture', file('walk.json'), '--fixture', '../escape'], /fixture name '..\/escape' is not valid/],
    [['parity', file('walk.json'), '--write-baseline'], /--write-baseline needs --baseline/],
    [['parity', file('walk.json'), '--baseline', notCapture], /expected \{"format": "kraken-parity-baseline\/1"/],
    [['record', '--target', 'http://127.0.0.1:1', '--out', file('x.json')], /--target must be an https:\/\/ URL/],
    [['record', '--target', 'https://127.0.0.1:1', '--walk', '--out', file('x.json')], /--walk needs --password/],
    [['record', '--out', file('x.json')], /required option '--target <url>' not specified/],
    [['parity'], /missing required argument 'capture'/]
  ]
  for (const [argv, message] of cases) {
    const r = await run(argv)
    t.equal(r.status, 2, argv.join(' '))
    t.match(r.err, message, argv.join(' '))
  }
  const device = await identical
  const refused = await run(['record', '--target', device.url, '--insecure', '--walk', '--password', 'not-the-password', '--out', file('refused.json')])
  t.equal(refused.status, 2)
  t.match(refused.err, /the device refused the login of haiadmin \(status 401\)/)
  const verified = await run(['record', '--target', device.url, '--walk', '--password', ADMIN_PASSWORD, '--out', file('unverified.json')])
  t.equal(verified.status, 2, 'without --insecure a self-signed device is refused')
  t.match(verified.err, /self-signed|certificate/i)
})

t.test('no password, passphrase or cookie value used reaches a capture, fixture, report or baseline', async t => {
  t.ok(secretsSeen.size >= 8, `${secretsSeen.size} secrets to look for`)
  const files = everyFile()
  t.ok(files.length >= 15, `${files.length} files searched`)
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    const found = [...secretsSeen].filter(s => text.includes(s))
    t.same(found, [], path.relative(work, f))
  }
})

t.test('the example capture of docs/capture-format.md is read, imported and replayed without a difference', async t => {
  const doc = readFileSync(new URL('../docs/capture-format.md', import.meta.url), 'utf8')
  const example = /## Example\n[^]*?```json\n([^]*?)```/.exec(doc)?.[1]
  t.ok(example, 'the example is there')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(file('example.json'), example!)
  const capture = readCapture(file('example.json'))
  t.equal(capture.exchanges.length, 3)
  const parity = await run(['parity', file('example.json'), '--markdown', file('example.md')])
  t.equal(parity.status, 0, parity.out + parity.err)
  t.match(parity.out, /3 exchanges compared, 3 identical, 0 different/)
  const imported = await run(['import-capture', file('example.json'), '--fixture', 'example', '--dir', file('example-fixture')])
  t.equal(imported.status, 0, imported.err)
  t.same(loadFixture(file('example-fixture')).singletons.systeminfo, { version: '4.2.1.14', model: 'Kraken', part_number: 'KRA-SVR-4000', serial_number: 'KR4000-2311-0042' }, 'the device identity')
})
