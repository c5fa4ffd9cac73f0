// Licence files (issue 22, kraken-api.md section 10) over a real HTTPS port: an Administrator
// installs a file minted with the emulator's test key and GET /apis/v2/license shows it at once;
// other roles and no session are refused; a truncated, tampered, expired or foreign file is a 400
// naming the reason with nothing changed; a lower limit or a missing feature puts running streams
// in error, and a licence that allows them again runs them again. And `kraken-emulator licence mint`.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { runLicenseCommand, TEST_LICENSE_PRIVATE_KEY_PEM } from '../src/license-mint.ts'
import { signLicense, type LicenseTerms } from '../src/system/license-file.ts'
import { loginHttps, send, startHttps } from './helpers/https.ts'

type Emulator = Awaited<ReturnType<typeof startHttps>>
const API = '/apis/v2'
const NOW_S = Math.floor(Date.now() / 1000)

function terms (over: Partial<LicenseTerms> = {}): LicenseTerms {
  return {
    licence_id: '5f0e1d2c-3b4a-4968-8776-a5b4c3d2e1f0',
    issued: NOW_S - 60,
    expiration: NOW_S + 365 * 86400,
    max_encoders: 6,
    features: ['Recording', 'KLV'],
    version_limit: '4.99',
    mac_address: '',
    ...over
  }
}
const mint = (over: Partial<LicenseTerms> = {}) => signLicense(terms(over), TEST_LICENSE_PRIVATE_KEY_PEM)

async function licence (emu: Emulator, cookie: string): Promise<Record<string, unknown>> {
  const res = await send(emu, 'GET', `${API}/license`, { cookie })
  return res.json() as Record<string, unknown>
}

async function streams (emu: Emulator, cookie: string): Promise<Array<{ uuid: string, name: string, status: string, sub_status: string }>> {
  return ((await send(emu, 'GET', `${API}/streams?full=true`, { cookie })).json() as { stream_list: Array<{ uuid: string, name: string, status: string, sub_status: string }> }).stream_list
}

function refused (t: Test, res: { status: number, json: () => unknown }, status: number, type: string, pattern: RegExp, label: string): void {
  t.equal(res.status, status, `${label}: ${status}`)
  t.match(res.json(), { error: { type, message: pattern, details: Array } }, `${label}: the envelope says why`)
}

t.test('an Administrator installs a licence file; every role sees it at once', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const before = await licence(emu, admin)
  t.same(before.features, ['Recording', 'KLV'], 'the default device is licensed for Recording and KLV')

  const file = mint({ max_encoders: 7, features: ['Recording'], version_limit: '4.5', expiration: NOW_S + 86400 })
  const res = await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: file })
  t.equal(res.status, 200, res.text)
  const expected = {
    max_encoders: 7, features: ['Recording'], version_limit: '4.5', version_limit_text: 'Valid for software versions up to 4.5',
    expiration: NOW_S + 86400, creation_date: NOW_S - 60, is_license_valid: true,
    license_mac_address: '02:4b:52:24:03:a0', system_instance_uuid: before.system_instance_uuid
  }
  t.match(res.json(), expected, 'the answer is the new licence; one for any device is bound to eth0')
  for (const user of ['haiadmin', 'operator', 'user']) {
    t.match(await licence(emu, await loginHttps(emu, user)), expected, `${user} reads the new licence`)
  }

  // Bound to this device's eth1: accepted and shown.
  const bound = await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: mint({ mac_address: '02:4b:52:24:03:a1' }) })
  t.equal(bound.status, 200)
  t.equal((bound.json() as { license_mac_address: string }).license_mac_address, '02:4b:52:24:03:a1')
})

t.test('only Administrators install licences; the licence is unchanged after a refusal', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const before = await licence(emu, admin)
  const file = mint({ max_encoders: 1 })
  refused(t, await send(emu, 'PUT', `${API}/license`, { body: file }), 401, 'SessionAuthentication', /session/, 'no session')
  refused(t, await send(emu, 'PUT', `${API}/license`, { cookie: await loginHttps(emu, 'operator'), body: file }), 403, 'SessionAuthorization', /Operator/, 'an Operator')
  refused(t, await send(emu, 'PUT', `${API}/license`, { cookie: await loginHttps(emu, 'user'), body: file }), 403, 'SessionAuthorization', /Viewer/, 'a Viewer')
  t.same(await licence(emu, admin), before, 'nothing changed')
})

t.test('a truncated, tampered, expired or foreign licence file is a 400 naming the reason; nothing changes', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const before = await licence(emu, admin)
  const good = mint({ max_encoders: 1 })
  const text = JSON.stringify(good, null, 2)
  const put = (body: unknown, headers?: Record<string, string>) => send(emu, 'PUT', `${API}/license`, { cookie: admin, body, ...(headers && { headers }) })

  refused(t, await put(text.slice(0, Math.floor(text.length * 0.6))), 400, 'Validation', /malformed JSON/, 'the file cut short')
  refused(t, await put({ ...good, signature: good.signature.slice(0, 40) }), 400, 'Validation', /signature is 30 bytes, not 64: the file is truncated/, 'the signature cut short')
  refused(t, await put({ ...good, payload: good.payload.replace('"max_encoders":1', '"max_encoders":9') }), 400, 'Validation', /signature does not match the payload: .*tampered/, 'a payload changed after signing')
  const flipped = Buffer.from(good.signature, 'base64')
  flipped[10] = flipped[10]! ^ 1
  refused(t, await put({ ...good, signature: flipped.toString('base64') }), 400, 'Validation', /tampered/, 'a changed signature')
  refused(t, await put({ ...good, signature: 'not base64!' }), 400, 'Validation', /signature is not base64/, 'a signature that is not base64')
  const otherKey = (await import('node:crypto')).generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  refused(t, await put(signLicense(terms({ max_encoders: 1 }), otherKey)), 400, 'Validation', /signed with another key/, 'a file signed with another key')
  refused(t, await put(mint({ expiration: NOW_S - 3600 })), 400, 'Validation', /payload\.expiration the licence expired on/, 'an expired licence')
  refused(t, await put(mint({ mac_address: '02:00:00:00:00:99' })), 400, 'Validation', /payload\.mac_address .* another device/, 'a licence for another device')
  refused(t, await put(mint({ version_limit: '4.1' })), 400, 'Validation', /payload\.version_limit is 4\.1: this device runs software 4\.2\.1\.14/, 'a licence below the running version')
  refused(t, await put(signLicense({ ...terms(), max_encoders: 'six' } as unknown as LicenseTerms, TEST_LICENSE_PRIVATE_KEY_PEM)), 400, 'Validation', /payload\.max_encoders/, 'signed terms of the wrong type')
  refused(t, await put({ ...good, format: 'kraken-emulator-licence/2' }), 400, 'Validation', /format must be kraken-emulator-licence\/1/, 'another format')
  refused(t, await put({ ...good, extra: true }), 400, 'Validation', /extra/, 'an unknown field')
  refused(t, await put({ format: good.format, payload: good.payload }), 400, 'Validation', /signature/, 'no signature')
  refused(t, await put({ ...good, payload: 'x'.repeat(5000) }), 400, 'Validation', /payload/, 'an oversized payload')
  refused(t, await put([good]), 400, 'Validation', /object/, 'not an object')
  refused(t, await put(text, { 'content-type': 'text/plain' }), 415, 'UnsupportedMediaType', /application\/json/, 'not JSON')
  t.same(await licence(emu, admin), before, 'nothing changed')
})

t.test('a lower max_encoders puts the streams beyond it in error; a licence that allows them runs them again', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const running = (await streams(emu, admin)).filter(s => s.status === 'running')
  t.equal(running.length, 2, 'the default device runs its two auto-start transcoding streams')

  t.equal((await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: mint({ max_encoders: 1 }) })).status, 200)
  const after = await streams(emu, admin)
  const fallen = after.filter(s => s.status === 'error')
  t.equal(fallen.length, 1, 'one stream lost its session')
  t.equal(fallen[0]!.sub_status, 'licence: max_encoders is 1; no transcoder session for this stream', 'with the reason')
  t.match(await licence(emu, admin), { max_encoders: 1, active_transcoder_sessions: 1 })

  t.equal((await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: mint({ max_encoders: 4 }) })).status, 200)
  t.same((await streams(emu, admin)).filter(s => s.status === 'running').map(s => s.uuid).sort(), running.map(s => s.uuid).sort(), 'both run again')
})

t.test('a licence without KLV stops the streams merging KLV metadata, with the reason; starting one is a 409', async t => {
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  t.equal((await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: mint({ features: ['Recording'] }) })).status, 200)
  const fallen = (await streams(emu, admin)).filter(s => s.status === 'error')
  const reason = "licence: the KLV feature is not licensed (the stream uses KLV metadata source 'UAV-1 KLV (UDP)')"
  t.same(fallen.map(s => s.sub_status), [reason, reason], 'both auto-start streams merge UAV-1\'s KLV: each fell, saying why')
  await send(emu, 'PUT', `${API}/streams/stream-${fallen[0]!.uuid}/stop`, { cookie: admin })
  refused(t, await send(emu, 'PUT', `${API}/streams/stream-${fallen[0]!.uuid}/start`, { cookie: admin }), 409, 'Conflict', /KLV feature is not licensed/, 'starting it again')
})

t.test('kraken-emulator licence mint writes a file the device installs', async t => {
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) }
  t.equal(runLicenseCommand(['mint', '--max-encoders', '3', '--features', 'klv', '--version-limit', '4.3', '--expiry', '2099-01-01', '--mac', '02:4B:52:24:03:A0', '--id', '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a'], io, () => 1_800_000_000_000), 0, err.join(''))
  const file = JSON.parse(out.join('')) as { format: string, payload: string, signature: string }
  t.equal(file.format, 'kraken-emulator-licence/1')
  t.same(JSON.parse(file.payload), {
    licence_id: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a', issued: 1_800_000_000, expiration: Date.parse('2099-01-01') / 1000,
    max_encoders: 3, features: ['KLV'], version_limit: '4.3', mac_address: '02:4b:52:24:03:a0'
  })
  const emu = await startHttps({ fixture: 'default' })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const res = await send(emu, 'PUT', `${API}/license`, { cookie: admin, body: file })
  t.equal(res.status, 200, res.text)
  t.match(res.json(), { max_encoders: 3, features: ['KLV'], version_limit: '4.3' })

  const dir = t.testdir()
  t.equal(runLicenseCommand(['mint', '--features', '', '--out', `${dir}/kraken.lic`], io), 0, '--out writes a file')
  const written = JSON.parse(await readFile(`${dir}/kraken.lic`, 'utf8')) as { payload: string }
  t.match(JSON.parse(written.payload), { features: [], max_encoders: 4, version_limit: '4.99', expiration: 0 }, 'the defaults; "" is no feature')

  for (const bad of [['mint', '--features', 'Teleport'], ['mint', '--max-encoders', '-1'], ['mint', '--expiry', 'soon'], ['mint', '--mac', 'nope'], ['mint', '--version-limit', 'four'], ['frobnicate']]) {
    const errors: string[] = []
    t.equal(runLicenseCommand(bad, { stdout: () => {}, stderr: s => errors.push(s) }), 2, `${bad.join(' ')}: exit status 2`)
    t.match(errors.join(''), /\S/, `${bad.join(' ')}: says why`)
  }
})

t.test('the command line runs licence mint', async t => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', new URL('../src/cli.ts', import.meta.url).pathname, 'licence', 'mint', '--max-encoders', '2'], { timeout: 60_000 })
  const file = JSON.parse(stdout) as { payload: string }
  t.match(JSON.parse(file.payload), { max_encoders: 2, features: ['Recording', 'KLV'], expiration: 0, mac_address: '' })
})
