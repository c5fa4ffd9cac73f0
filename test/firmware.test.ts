// Firmware upgrade (issue 22, kraken-api.md section 10) over a real HTTPS port: upload a package,
// watch it verify on the manual clock, apply it, the device reboots and comes back with the new
// version; each role; corrupt, truncated, too-new, older (without force) and oversized packages
// refused in the envelope with nothing changed.
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { loginHttps, send, startHttps, type HttpResult } from './helpers/https.ts'
import { MAX_UNPACKED_BYTES, packFirmware, tarOf, verifyPackage } from '../src/system/firmware-package.ts'
import { compareVersions, withinLimit } from '../src/system/versions.ts'
import { EXAMPLE_FIRMWARE_BASE64, EXAMPLE_FIRMWARE_VERSION } from '../src/system/firmware-example.ts'
import { VERIFY_MS } from '../src/system/firmware-routes.ts'
import { firmwareCommand } from '../src/system/firmware-command.ts'
import { LICENSE } from '../src/system/license.ts'

type Emulator = Awaited<ReturnType<typeof startHttps>>
const API = '/apis/v2'
const FIRMWARE = `${API}/system/firmware`
const RUNNING = '4.2.1.14'

function assertEnvelope (t: Test, res: HttpResult, status: number, type: string, label: string): void {
  t.equal(res.status, status, `${label}: ${status} (${res.text.slice(0, 200)})`)
  t.match(res.json(), { error: { type, message: String, details: Array } }, `${label}: the envelope`)
}

async function start (options: { rebootMs?: number } = {}): Promise<Emulator & { admin: string }> {
  const emulator = await startHttps({ clock: 'manual', ...options })
  const admin = await loginHttps(emulator)
  return { ...emulator, admin }
}

const advance = (emulator: Emulator, ms: number): void => {
  const clock = emulator.app.kraken.deviceClock
  if (clock === undefined) throw new Error('no device clock')
  clock.advance(ms)
}

async function upload (emulator: Emulator, cookie: string, bytes: Buffer): Promise<HttpResult> {
  return await send(emulator, 'POST', FIRMWARE, { cookie, body: { package: bytes.toString('base64') } })
}

async function version (emulator: Emulator, cookie: string): Promise<string> {
  return ((await send(emulator, 'GET', `${API}/systeminfo`, { cookie })).json() as { version: string }).version
}

async function statusOf (emulator: Emulator, cookie: string): Promise<Record<string, unknown>> {
  const res = await send(emulator, 'GET', FIRMWARE, { cookie })
  if (res.status !== 200) throw new Error(`firmware status: ${res.status} ${res.text}`)
  return res.json() as Record<string, unknown>
}

t.test('upload -> verifying -> ready, apply: 503 during the reboot, then systeminfo shows the new version', async t => {
  const emulator = await start({ rebootMs: 5000 })
  t.teardown(() => emulator.close())
  const { admin } = emulator
  t.match(await statusOf(emulator, admin), { running_version: RUNNING, version_limit: '4.99', state: 'idle', progress: 0, package: null })

  const bytes = await packFirmware({ version: '4.3.0.1', notes: 'test upgrade' })
  const uploaded = await upload(emulator, admin, bytes)
  t.equal(uploaded.status, 202, uploaded.text)
  t.match(uploaded.json(), { state: 'verifying', progress: 0, package: { version: '4.3.0.1', size: bytes.length, files: 1, notes: 'test upgrade', downgrade: false, sha256: /^[0-9a-f]{64}$/ } })

  advance(emulator, VERIFY_MS / 2)
  t.match(await statusOf(emulator, admin), { state: 'verifying', progress: 50 }, 'half way through verifying')
  const early = await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: admin })
  assertEnvelope(t, early, 409, 'Conflict', 'apply while verifying')
  advance(emulator, VERIFY_MS / 2)
  t.match(await statusOf(emulator, admin), { state: 'ready', progress: 100, running_version: RUNNING })

  const applied = await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: admin })
  t.equal(applied.status, 202, applied.text)
  t.same(applied.json(), { version: '4.3.0.1', previous_version: RUNNING, state: 'rebooting' })
  const during = await send(emulator, 'GET', `${API}/systeminfo`, { cookie: admin })
  t.equal(during.status, 503, 'rebooting')
  t.ok(during.headers['retry-after'], 'with Retry-After')

  advance(emulator, 5000)
  const gone = await send(emulator, 'GET', `${API}/systeminfo`, { cookie: admin })
  t.equal(gone.status, 401, 'the reboot ended every session')
  const again = await loginHttps(emulator)
  t.equal(await version(emulator, again), '4.3.0.1', 'back with the new version')
  t.match(await statusOf(emulator, again), { running_version: '4.3.0.1', state: 'idle', package: null })
  const log = await send(emulator, 'GET', `${API}/system/log`, { cookie: again })
  t.match(log.text, /firmware: package 4\.3\.0\.1 uploaded by haiadmin/)
  t.match(log.text, /firmware: package 4\.3\.0\.1 verified: ready to apply/)
  t.match(log.text, /firmware: upgrade from 4\.2\.1\.14 to 4\.3\.0\.1 applied by haiadmin: rebooting/)
})

t.test('each role: every role reads the status; only Administrators upload, apply or discard', async t => {
  const emulator = await start()
  t.teardown(() => emulator.close())
  const operator = await loginHttps(emulator, 'operator')
  const viewer = await loginHttps(emulator, 'user')
  const body = { package: (await packFirmware({ version: '4.3.0.1' })).toString('base64') }
  for (const [who, cookie] of [['Operator', operator], ['Viewer', viewer]] as const) {
    t.equal((await send(emulator, 'GET', FIRMWARE, { cookie })).status, 200, `${who} reads the status`)
    assertEnvelope(t, await send(emulator, 'POST', FIRMWARE, { cookie, body }), 403, 'SessionAuthorization', `${who} uploads`)
    assertEnvelope(t, await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie, body: { force: true } }), 403, 'SessionAuthorization', `${who} applies`)
    assertEnvelope(t, await send(emulator, 'DELETE', FIRMWARE, { cookie }), 403, 'SessionAuthorization', `${who} discards`)
  }
  assertEnvelope(t, await send(emulator, 'GET', FIRMWARE), 401, 'SessionAuthentication', 'no session reads')
  assertEnvelope(t, await send(emulator, 'POST', FIRMWARE, { body }), 401, 'SessionAuthentication', 'no session uploads')
  assertEnvelope(t, await send(emulator, 'POST', `${FIRMWARE}/apply`), 401, 'SessionAuthentication', 'no session applies')
  t.match(await statusOf(emulator, emulator.admin), { state: 'idle', package: null }, 'nothing was uploaded')

  t.equal((await send(emulator, 'POST', FIRMWARE, { cookie: emulator.admin, body })).status, 202, 'the Administrator uploads')
  t.equal((await send(emulator, 'DELETE', FIRMWARE, { cookie: emulator.admin })).status, 204, 'and discards')
  t.match(await statusOf(emulator, emulator.admin), { state: 'idle', package: null })
  t.equal(await version(emulator, emulator.admin), RUNNING)
})

t.test('bad packages and bodies: a clear 4xx in the envelope, nothing changed (an earlier ready package stays)', async t => {
  const emulator = await start()
  t.teardown(() => emulator.close())
  const { admin } = emulator
  const good = await packFirmware({ version: '4.3.0.1' })
  t.equal((await upload(emulator, admin, good)).status, 202)
  advance(emulator, VERIFY_MS)
  const before = await statusOf(emulator, admin)
  t.match(before, { state: 'ready', package: { version: '4.3.0.1' } })

  const tar = gunzipSync(good)
  const flipped = Buffer.from(tar)
  flipped[1536] = (flipped[1536] ?? 0) ^ 1 // a byte of rootfs.img's content (after two 512-byte headers and the manifest's block)
  const manifest = (content: unknown) => tarOf([['manifest.json', Buffer.from(JSON.stringify(content))], ['rootfs.img', Buffer.from('x')]])
  const sha = 'e'.repeat(64)
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a payload byte flipped', flipped, /rootfs\.img.*SHA-256/],
    ['a payload byte flipped, gzipped', gzipSync(flipped), /SHA-256/],
    ['truncated gzip', good.subarray(0, good.length - 30), /gzip/],
    ['truncated tar', tar.subarray(0, 1000), /tar/],
    ['a gzip bomb', gzipSync(Buffer.alloc(MAX_UNPACKED_BYTES + 1)), /unpacks to more than 8 MiB/],
    ['random bytes', Buffer.alloc(2048, 0x5a), /tar/],
    ['too short', Buffer.from('firmware'), /tar/],
    ['no manifest', await tarOf([['rootfs.img', Buffer.from('x')]]), /manifest\.json/],
    ['a manifest that is not JSON', await tarOf([['manifest.json', Buffer.from('{ version: 4')]]), /not JSON/],
    ['another format', await manifest({ format: 'kraken-firmware/9', product: 'Kraken', version: '4.3.0.1', files: { 'rootfs.img': sha } }), /format/],
    ['another product', await packFirmware({ version: '4.3.0.1', product: 'Makito X4' }), /product/],
    ['a bad version', await manifest({ format: 'kraken-firmware/1', product: 'Kraken', version: 'latest', files: { 'rootfs.img': sha } }), /version/],
    ['a listed file missing', await manifest({ format: 'kraken-firmware/1', product: 'Kraken', version: '4.3.0.1', files: { 'kernel.img': sha } }), /kernel\.img/],
    ['no files listed', await manifest({ format: 'kraken-firmware/1', product: 'Kraken', version: '4.3.0.1', files: {} }), /at least one file/]
  ]
  for (const [label, bytes, reason] of cases) {
    const res = await upload(emulator, admin, bytes)
    assertEnvelope(t, res, 400, 'Validation', label)
    t.match((res.json() as { error: { message: string } }).error.message, reason, `${label}: says why`)
  }
  const tooNew = await upload(emulator, admin, await packFirmware({ version: '5.0.0.1' }))
  assertEnvelope(t, tooNew, 409, 'Conflict', 'above the licence\'s version_limit 4.99')
  t.match(tooNew.json(), { error: { message: /version_limit 4\.99/, details: [{ field: 'version' }] } })

  const bodies: Array<[string, Record<string, unknown> | string, number, string, Record<string, string>?]> = [
    ['not base64', { package: '%%%not base64%%%' }, 400, 'Validation'],
    ['empty', { package: '' }, 400, 'Validation'],
    ['a number', { package: 42 }, 400, 'Validation'],
    ['no package', {}, 400, 'Validation'],
    ['an unknown field', { package: good.toString('base64'), force: true }, 400, 'Validation'],
    ['malformed JSON', '{"package": ', 400, 'Validation'],
    ['not JSON', good.toString('base64'), 415, 'UnsupportedMediaType', { 'content-type': 'application/octet-stream' }],
    ['over the 1 MiB body limit', { package: Buffer.alloc(900 * 1024, 1).toString('base64') }, 413, 'PayloadTooLarge']
  ]
  for (const [label, body, status, type, headers] of bodies) {
    assertEnvelope(t, await send(emulator, 'POST', FIRMWARE, { cookie: admin, body, ...(headers !== undefined && { headers }) }), status, type, label)
  }
  t.same(await statusOf(emulator, admin), before, 'the ready package is still the one uploaded first')
  t.equal(await version(emulator, admin), RUNNING, 'the running version did not change')
  const log = await send(emulator, 'GET', `${API}/system/log`, { cookie: admin })
  t.match(log.text, /firmware: package refused \(upload by haiadmin\): manifest\.files\.rootfs\.img does not match its SHA-256/)
  t.match(log.text, /firmware: package 5\.0\.0\.1 refused \(upload by haiadmin\): above the licence's version_limit/)
})

t.test('an older package needs force; nothing to apply is a 409; a lowered licence refuses at apply', async t => {
  const emulator = await start()
  t.teardown(() => emulator.close())
  const { admin } = emulator
  assertEnvelope(t, await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: admin }), 409, 'Conflict', 'nothing uploaded')
  assertEnvelope(t, await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: admin, body: { force: 'yes' } }), 400, 'Validation', 'force not a boolean')

  t.equal((await upload(emulator, admin, await packFirmware({ version: '4.1.0.3' }))).status, 202)
  advance(emulator, VERIFY_MS)
  t.match(await statusOf(emulator, admin), { state: 'ready', package: { version: '4.1.0.3', downgrade: true } })
  const refused = await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: admin, body: { force: false } })
  assertEnvelope(t, refused, 409, 'Conflict', 'a downgrade without force')
  t.match(refused.json(), { error: { message: /older than the running 4\.2\.1\.14/, details: [{ field: 'force' }] } })
  t.equal(await version(emulator, admin), RUNNING, 'nothing changed')
  t.match(await statusOf(emulator, admin), { state: 'ready' }, 'the package is still ready')
  const forced = await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: admin, body: { force: true } })
  t.equal(forced.status, 202, forced.text)
  const again = await loginHttps(emulator)
  t.equal(await version(emulator, again), '4.1.0.3', 'downgraded')

  // A licence for 4.2 at most: 4.2.x is within it, 4.3 is not, and lowering the licence after the upload refuses the apply.
  const license = emulator.app.kraken.store.singleton(LICENSE) ?? {}
  t.equal((await upload(emulator, again, await packFirmware({ version: '4.3.0.1' }))).status, 202)
  advance(emulator, VERIFY_MS)
  await emulator.app.kraken.store.commit([{ op: 'set', singleton: LICENSE, value: { ...license, version_limit: '4.2', version_limit_text: 'up to 4.2' } }])
  assertEnvelope(t, await send(emulator, 'POST', `${FIRMWARE}/apply`, { cookie: again }), 409, 'Conflict', 'the licence was lowered after the upload')
  t.equal(await version(emulator, again), '4.1.0.3', 'nothing changed')
  assertEnvelope(t, await upload(emulator, again, await packFirmware({ version: '4.3.0.1' })), 409, 'Conflict', '4.3 above a 4.2 licence')
  t.equal((await upload(emulator, again, await packFirmware({ version: '4.2.9.9' }))).status, 202, '4.2.9.9 is within "up to 4.2"')
})

t.test('versions: compared number by number; a licence limit read to its own precision', async t => {
  t.equal(compareVersions('4.10.0', '4.9.9'), 1)
  t.equal(compareVersions('4.2', '4.2.0.0'), 0)
  t.equal(compareVersions('4.2.1.13', '4.2.1.14'), -1)
  t.ok(withinLimit('4.99.7.1', '4.99'))
  t.ok(withinLimit('4.3', '4.99'))
  t.notOk(withinLimit('5.0', '4.99'))
  t.notOk(withinLimit('4.2.1.15', '4.2.1.14'))
})

t.test('the /apidoc example package and `kraken-emulator firmware pack` build packages that verify', async t => {
  t.match(await verifyPackage(Buffer.from(EXAMPLE_FIRMWARE_BASE64, 'base64')), { version: EXAMPLE_FIRMWARE_VERSION })
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-firmware-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) }
  t.equal(await firmwareCommand(['pack', '--version', '4.5.0.1', '--out', path.join(dir, 'fw.tar.gz')], io), 0, err.join(''))
  t.match(await verifyPackage(await readFile(path.join(dir, 'fw.tar.gz'))), { version: '4.5.0.1' })
  t.equal(await firmwareCommand(['pack', '--version', '4.5.0.2', '--body', '--out', path.join(dir, 'fw.json')], io), 0)
  const body = JSON.parse(await readFile(path.join(dir, 'fw.json'), 'utf8')) as { package: string }
  t.match(await verifyPackage(Buffer.from(body.package, 'base64')), { version: '4.5.0.2' })
  t.equal(await firmwareCommand(['pack', '--version', 'newest'], io), 2, 'a bad version is a usage error')
  t.match(err.join(''), /must be 2 to 4 dotted numbers/)
  t.equal(await firmwareCommand(['pack'], io), 2, '--version is required')
})
