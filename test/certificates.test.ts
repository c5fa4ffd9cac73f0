// HTTPS certificates (issue 21, kraken-api.md section 10) over a real HTTPS port: list, create a
// self-signed certificate or a CSR, download the CSR, upload its signed certificate or a
// certificate with its key, serve one (really served, without a restart), delete; each role; bad
// input answered in the envelope with nothing changed.
import t, { type Test } from 'tap'
import * as x509 from '@peculiar/x509'
import { webcrypto } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import tls from 'node:tls'
import { loginHttps, send, startHttps } from './helpers/https.ts'
import { makePair } from './helpers/cert-pair.ts'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type Emulator = Awaited<ReturnType<typeof startHttps>>
const API = '/apis/v2'

function assertEnvelope (t: Test, res: { status: number, json: () => unknown }, status: number, type: string, label: string): void {
  t.equal(res.status, status, `${label}: ${status}`)
  t.match(res.json(), { error: { type, message: String, details: Array } }, `${label}: the envelope`)
}

/** A certificate with its key made here (a test CA, an expired certificate...). */
/** Opens a TLS connection and returns it with the fingerprint of the certificate it was served. */
async function connect (emulator: Emulator, ca?: string): Promise<{ socket: tls.TLSSocket, fingerprint: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port: emulator.port, servername: 'localhost', ...(ca === undefined ? { rejectUnauthorized: false } : { ca }) })
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject) })
  return { socket, fingerprint: socket.getPeerCertificate().fingerprint256 }
}

/** One HTTP/1.1 request on an open TLS connection (kept alive); resolves with the status line. */
async function requestOn (socket: tls.TLSSocket): Promise<string> {
  return await new Promise((resolve, reject) => {
    let data = ''
    const onData = (chunk: Buffer) => {
      data += chunk.toString('latin1')
      const end = data.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(data)?.[1]
      if (end !== -1 && length !== undefined && data.length >= end + 4 + Number(length)) {
        socket.off('data', onData)
        resolve(data.split('\r\n')[0] ?? '')
      }
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write('GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n')
  })
}

t.test('a real TLS client sees both certificates, without a restart; a connection opened before the switch keeps working', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const before = emulator.currentCertificate()

  const old = await connect(emulator, before.certificate)
  t.equal(old.fingerprint, before.fingerprint, 'before the switch: the startup certificate')
  t.teardown(() => old.socket.destroy())
  t.equal(await requestOn(old.socket), 'HTTP/1.1 200 OK')

  const created = await send(emulator, 'POST', `${API}/certificates`, { cookie: admin, body: { name: 'site', type: 'self-signed', digest: 'sha384', subject: { C: 'US', O: 'Acme', CN: 'localhost' } } })
  t.equal(created.status, 201, created.text)
  t.equal(created.headers.location, `${API}/certificates/certificate-site`)
  t.match(created.json(), { name: 'site', type: 'self-signed', status: 'ready', subject: 'C=US, O=Acme, CN=localhost', issuer: 'C=US, O=Acme, CN=localhost', sans: ['localhost'], in_use: false, fingerprint: /^[0-9A-F:]{95}$/ })
  const site = created.json() as { fingerprint: string }
  const pem = (await send(emulator, 'GET', `${API}/certificates/certificate-site`, { cookie: admin })).json() as { certificate: string }

  const served = await send(emulator, 'PUT', `${API}/certificates/certificate-site/serve`, { cookie: admin })
  t.equal(served.status, 200, served.text)
  t.match(served.json(), { name: 'site', in_use: true })

  const fresh = await connect(emulator, pem.certificate)
  t.teardown(() => fresh.socket.destroy())
  t.equal(fresh.fingerprint, site.fingerprint, 'a new connection gets the new certificate (and verifies against it)')
  t.not(fresh.fingerprint, before.fingerprint)
  t.equal(await requestOn(fresh.socket), 'HTTP/1.1 200 OK')
  t.equal(await requestOn(old.socket), 'HTTP/1.1 200 OK', 'the connection opened before the switch still answers')
  t.equal(old.socket.getPeerCertificate().fingerprint256, before.fingerprint, 'on the certificate it negotiated')
  t.same(emulator.currentCertificate(), { certificate: pem.certificate, fingerprint: site.fingerprint }, 'the handle reports the certificate served now')
  t.equal(emulator.app.kraken.tls.current()?.fingerprint, site.fingerprint)

  const list = (await send(emulator, 'GET', `${API}/certificates`, { cookie: admin })).json() as { certificate_list: Array<{ name: string, in_use: boolean }> }
  t.same(list.certificate_list.map(c => [c.name, c.in_use]), [['default', false], ['site', true]])
  assertEnvelope(t, await send(emulator, 'DELETE', `${API}/certificates/certificate-site`, { cookie: admin }), 409, 'Conflict', 'deleting the certificate in use')

  t.equal((await send(emulator, 'PUT', `${API}/certificates/certificate-default/serve`, { cookie: admin })).status, 200, 'back to the startup certificate')
  const back = await connect(emulator, before.certificate)
  t.teardown(() => back.socket.destroy())
  t.equal(back.fingerprint, before.fingerprint)
  t.equal((await send(emulator, 'DELETE', `${API}/certificates/certificate-site`, { cookie: admin })).status, 204, 'deletable once not in use')
  assertEnvelope(t, await send(emulator, 'DELETE', `${API}/certificates/certificate-default`, { cookie: admin }), 409, 'Conflict', 'the startup certificate')
})

t.test('CSR: create, download, upload the signed certificate; a certificate for another key and corrupt PEM are refused with nothing changed', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const created = await send(emulator, 'POST', `${API}/certificates`, { cookie: admin, body: { name: 'csr-1', type: 'csr', digest: 'sha512', subject: { CN: 'kraken.example', O: 'Acme' }, sans: ['10.0.0.5'] } })
  t.equal(created.status, 201, created.text)
  t.match(created.json(), { type: 'csr', status: 'awaiting_certificate', subject: 'O=Acme, CN=kraken.example', sans: ['10.0.0.5', 'kraken.example'], issuer: null, fingerprint: null, in_use: false })
  const download = await send(emulator, 'GET', `${API}/certificates/certificate-csr-1/csr`, { cookie: admin })
  t.equal(download.status, 200)
  t.match(download.headers['content-type'], /^application\/pkcs10/)
  const csr = new x509.Pkcs10CertificateRequest(download.text)
  t.ok(await csr.verify(), 'a valid, self-signed request')
  t.equal(csr.subject, 'O=Acme, CN=kraken.example')
  t.equal(csr.signatureAlgorithm.hash.name, 'SHA-512', 'the digest asked for')
  assertEnvelope(t, await send(emulator, 'PUT', `${API}/certificates/certificate-csr-1/serve`, { cookie: admin }), 409, 'Conflict', 'serving a CSR awaiting its certificate')

  const ca = await makePair({ cn: 'Test CA', days: 30 })
  const signed = await makePair({ cn: 'kraken.example', days: 30, issuer: { name: 'CN=Test CA', key: ca.keys.privateKey }, publicKey: csr.publicKey })
  const otherKey = await makePair({ cn: 'kraken.example', days: 30, issuer: { name: 'CN=Test CA', key: ca.keys.privateKey } })
  const snapshot = () => JSON.stringify(emulator.app.kraken.store.singleton('certificates'))
  const unchanged = snapshot()
  const bad: Array<[string, unknown, number, string]> = [
    ['a certificate for another key', { certificate: otherKey.cert }, 400, 'does not match'],
    ['corrupt PEM', { certificate: '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' }, 400, 'not a valid X.509'],
    ['no PEM', { certificate: 'hello' }, 400, 'PEM'],
    ['a number', { certificate: 42 }, 400, 'string'],
    ['an unknown field', { certificate: signed.cert, extra: 1 }, 400, 'extra']
  ]
  for (const [label, body, status, message] of bad) {
    const res = await send(emulator, 'PUT', `${API}/certificates/certificate-csr-1/certificate`, { cookie: admin, body })
    assertEnvelope(t, res, status, 'Validation', label)
    t.match((res.json() as { error: { message: string } }).error.message, message, `${label}: says why`)
  }
  t.equal(snapshot(), unchanged, 'nothing changed')
  assertEnvelope(t, await send(emulator, 'PUT', `${API}/certificates/certificate-nope/certificate`, { cookie: admin, body: { certificate: signed.cert } }), 404, 'NotFound', 'an unknown certificate')

  const uploaded = await send(emulator, 'PUT', `${API}/certificates/certificate-csr-1/certificate`, { cookie: admin, body: { certificate: signed.cert } })
  t.equal(uploaded.status, 200, uploaded.text)
  t.match(uploaded.json(), { status: 'ready', issuer: 'CN=Test CA', subject: 'CN=kraken.example', fingerprint: /^[0-9A-F:]+$/ })
  t.equal((await send(emulator, 'PUT', `${API}/certificates/certificate-csr-1/serve`, { cookie: admin })).status, 200)
  const conn = await connect(emulator)
  t.teardown(() => conn.socket.destroy())
  t.equal(conn.fingerprint, (uploaded.json() as { fingerprint: string }).fingerprint, 'the CA-signed certificate is served')
})

t.test('import a certificate with its key; a mismatched key, corrupt PEM, an expired certificate and bad input are refused', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const good = await makePair({ cn: 'localhost', days: 30 })
  const other = await makePair({ cn: 'localhost', days: 30 })
  const expired = await makePair({ cn: 'localhost', days: -1 })
  const list = async () => (await send(emulator, 'GET', `${API}/certificates`, { cookie: admin })).text
  const before = await list()
  const bad: Array<[string, unknown, number, string, string]> = [
    ['a key that does not match', { name: 'x', certificate: good.cert, key: other.key }, 400, 'Validation', 'does not match'],
    ['a corrupt certificate', { name: 'x', certificate: good.cert.replace(/[A-Za-z]{8}/, '!!!!!!!!'), key: good.key }, 400, 'Validation', 'certificate'],
    ['a corrupt key', { name: 'x', certificate: good.cert, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, 400, 'Validation', 'key'],
    ['a name of the wrong type', { name: 3, certificate: good.cert, key: good.key }, 400, 'Validation', 'name'],
    ['a bad name', { name: '../etc', certificate: good.cert, key: good.key }, 400, 'Validation', 'name'],
    ['the startup certificate\'s name', { name: 'default', certificate: good.cert, key: good.key }, 409, 'Conflict', 'exists']
  ]
  for (const [label, body, status, type, message] of bad) {
    const res = await send(emulator, 'POST', `${API}/certificates/import`, { cookie: admin, body })
    assertEnvelope(t, res, status, type, label)
    t.match((res.json() as { error: { message: string } }).error.message, message, `${label}: says why`)
  }
  const createBad: Array<[string, unknown]> = [
    ['an unknown digest', { name: 'y', type: 'self-signed', digest: 'md5', subject: { CN: 'a' } }],
    ['an unknown type', { name: 'y', type: 'ca', subject: { CN: 'a' } }],
    ['an empty subject', { name: 'y', type: 'self-signed', subject: {} }],
    ['a bad country', { name: 'y', type: 'self-signed', subject: { C: 'usa', CN: 'a' } }],
    ['sans of the wrong type', { name: 'y', type: 'csr', subject: { CN: 'a' }, sans: 'a' }]
  ]
  for (const [label, body] of createBad) assertEnvelope(t, await send(emulator, 'POST', `${API}/certificates`, { cookie: admin, body }), 400, 'Validation', label)
  t.equal(await list(), before, 'nothing was added')

  t.equal((await send(emulator, 'POST', `${API}/certificates/import`, { cookie: admin, body: { name: 'old', certificate: expired.cert, key: expired.key } })).status, 201, 'an expired certificate may be stored...')
  const refused = await send(emulator, 'PUT', `${API}/certificates/certificate-old/serve`, { cookie: admin })
  assertEnvelope(t, refused, 400, 'Validation', '...but not served')
  t.match((refused.json() as { error: { message: string } }).error.message, /expired/)
  const still = await connect(emulator)
  still.socket.destroy()
  t.equal(still.fingerprint, emulator.fingerprint, 'the startup certificate is still served')
  t.equal(emulator.currentCertificate().fingerprint, emulator.fingerprint, 'and reported')

  const imported = await send(emulator, 'POST', `${API}/certificates/import`, { cookie: admin, body: { name: 'good', certificate: good.cert, key: good.key } })
  t.equal(imported.status, 201, imported.text)
  t.match(imported.json(), { type: 'imported', subject: 'CN=localhost', sans: ['localhost'] })
  t.notMatch(imported.text, /PRIVATE KEY/, 'the key is never returned')
  t.notMatch((await send(emulator, 'GET', `${API}/certificates/certificate-good`, { cookie: admin })).text, /PRIVATE KEY/)
  assertEnvelope(t, await send(emulator, 'GET', `${API}/certificates/certificate-good/csr`, { cookie: admin }), 404, 'NotFound', 'no CSR for an imported certificate')
  assertEnvelope(t, await send(emulator, 'PUT', `${API}/certificates/certificate-nope/serve`, { cookie: admin }), 404, 'NotFound', 'serve an unknown certificate')
})

t.test('subject values that read as RFC 4514 syntax (a leading #, a backslash) are kept as typed, not a 500', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  // Found by the route fuzzer (seed 31753125): OU "#NqiA" was read as hex BER and threw.
  for (const [name, type] of [['hash', 'self-signed'], ['slash', 'csr']] as const) {
    const res = await send(emulator, 'POST', `${API}/certificates`, { cookie: admin, body: { name, type, subject: { OU: '#NqiA', O: 'a\\b', CN: 'Ea' }, ...(type === 'self-signed' && { digest: 'sha384', validity_days: 821 }) } })
    t.equal(res.status, 201, `${type}: created`)
    const pem = type === 'csr'
      ? (await send(emulator, 'GET', `${API}/certificates/certificate-${name}/csr`, { cookie: admin })).text
      : undefined
    const subject = pem === undefined ? (res.json() as { subject: string }).subject : new x509.Pkcs10CertificateRequest(pem).subject
    t.match(subject, /OU=\\#NqiA/, `${type}: the OU is "#NqiA", escaped only in the string form`)
    t.match(subject, /O=a\\\\b/, `${type}: the backslash is kept`)
  }
})

t.test('roles: every role reads, only Administrators manage; no session is 401', async t => {
  const emulator = await startHttps()
  t.teardown(() => emulator.close())
  const admin = await loginHttps(emulator)
  const operator = await loginHttps(emulator, 'operator')
  const viewer = await loginHttps(emulator, 'user')
  t.equal((await send(emulator, 'POST', `${API}/certificates`, { cookie: admin, body: { name: 'c', type: 'csr', subject: { CN: 'a' } } })).status, 201)
  const good = await makePair({ cn: 'localhost', days: 30 })
  const C = `${API}/certificates/certificate-c`
  const writes: Array<[string, string, unknown?]> = [
    ['POST', `${API}/certificates`, { name: 'd', type: 'self-signed', subject: { CN: 'a' } }],
    ['POST', `${API}/certificates/import`, { name: 'e', certificate: good.cert, key: good.key }],
    ['PUT', `${C}/certificate`, { certificate: good.cert }], ['PUT', `${API}/certificates/certificate-default/serve`], ['DELETE', C]
  ]
  const before = JSON.stringify(emulator.app.kraken.store.singleton('certificates'))
  for (const [method, url, body] of writes) {
    for (const [role, cookie] of [['Operator', operator], ['Viewer', viewer]] as const) {
      assertEnvelope(t, await send(emulator, method as 'GET', url, { cookie, body }), 403, 'SessionAuthorization', `${role} ${method} ${url}`)
    }
    assertEnvelope(t, await send(emulator, method as 'GET', url, { body }), 401, 'SessionAuthentication', `no session ${method} ${url}`)
  }
  t.equal(JSON.stringify(emulator.app.kraken.store.singleton('certificates')), before, 'nothing refused changed anything')
  for (const [role, cookie] of [['Operator', operator], ['Viewer', viewer]] as const) {
    for (const url of [`${API}/certificates`, C, `${C}/csr`]) t.equal((await send(emulator, 'GET', url, { cookie })).status, 200, `${role} GET ${url}`)
  }
  for (const url of [`${API}/certificates`, C, `${C}/csr`]) assertEnvelope(t, await send(emulator, 'GET', url), 401, 'SessionAuthentication', `no session GET ${url}`)
})

t.test('the choice is stored with the device and served after a restart; --cert/--key win (and say so)', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-certs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const data = path.join(dir, 'data.json')
  const first = await startHttps({ data, inMemory: false })
  const admin = await loginHttps(first)
  const created = await send(first, 'POST', `${API}/certificates`, { cookie: admin, body: { name: 'site', type: 'self-signed', subject: { CN: 'localhost' } } })
  t.equal(created.status, 201)
  t.equal((await send(first, 'PUT', `${API}/certificates/certificate-site/serve`, { cookie: admin })).status, 200)
  const chosen = first.currentCertificate()
  const startup = first.app.kraken.tls.startup!
  await first.close()

  const second = await startHttps({ data, inMemory: false })
  t.equal(second.fingerprint, chosen.fingerprint, 'the handle reports the stored choice')
  const conn = await connect(second)
  conn.socket.destroy()
  t.equal(conn.fingerprint, chosen.fingerprint, 'and it is served from the start')
  await second.close()

  await writeFile(path.join(dir, 'cert.pem'), startup.cert)
  await writeFile(path.join(dir, 'key.pem'), startup.key, { mode: 0o600 })
  let log = ''
  const logStream = new Writable({ write (chunk: Buffer, _encoding, done) { log += chunk.toString(); done() } })
  const third = await startHttps({ data, inMemory: false, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), logLevel: 'warn', logStream })
  t.teardown(() => third.close())
  t.not(third.fingerprint, chosen.fingerprint, '--cert/--key are served')
  t.match(log, /--cert\/--key given: they win over the certificate 'site' chosen through the API/, 'and the start says so')
  const third2 = await connect(third)
  third2.socket.destroy()
  t.equal(third2.fingerprint, third.fingerprint)
  const thirdAdmin = await loginHttps(third)
  assertEnvelope(t, await send(third, 'PUT', `${API}/certificates/certificate-site/serve`, { cookie: thirdAdmin }), 409, 'Conflict', 'choosing while --cert/--key are in force')
})
