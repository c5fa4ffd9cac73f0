import t, { type Test } from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls'
import { generate } from 'selfsigned'
import { Agent, fetch } from 'undici'
import {
  CertificateError,
  fingerprintOf,
  loadOrCreateCertificate,
  tlsServerOptions,
  type TlsMaterial
} from '../src/tls/certificate.ts'

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/
const hasOpenssl = spawnSync('openssl', ['version']).status === 0
const posix = process.platform !== 'win32'

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-cert-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A cert/key pair made independently of the code under test (openssl when present). */
async function makePair (dir: string, name: string): Promise<{ certFile: string, keyFile: string }> {
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  if (hasOpenssl) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${name}`,
      '-addext', `subjectAltName=DNS:${name}`], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`)
  } else {
    const pems = await generate([{ name: 'commonName', value: name }], { algorithm: 'sha256', keyType: 'ec' })
    await writeFile(certFile, pems.cert)
    await writeFile(keyFile, pems.private, { mode: 0o600 })
  }
  return { certFile, keyFile }
}

async function rejectsCertificateError (t: Test, p: Promise<unknown>, pattern: RegExp): Promise<CertificateError> {
  try {
    await p
  } catch (err) {
    t.type(err, CertificateError)
    t.match((err as Error).message, pattern)
    t.notMatch((err as Error).message, /PRIVATE KEY|\n/, 'one line, no key material')
    return err as CertificateError
  }
  t.fail('expected a CertificateError')
  return new CertificateError('unreachable')
}

async function listen (server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function close (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
}

function tlsServer (material: TlsMaterial, extra: object = tlsServerOptions): Server {
  return createServer({ cert: material.cert, key: material.key, ...extra }, (_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8')
    res.end('{"ok":true}')
  })
}

/** Resolves with the negotiated protocol, rejects with the TLS error. */
async function handshake (options: ConnectionOptions): Promise<{ protocol: string | null, authorized: boolean }> {
  return await new Promise((resolve, reject) => {
    const socket: TLSSocket = connect(options, () => {
      const result = { protocol: socket.getProtocol(), authorized: socket.authorized }
      socket.end()
      resolve(result)
    })
    socket.once('error', reject)
  })
}

t.test('generates a pair once into certsDir, then reuses it unchanged', async t => {
  const dir = join(await tempDir(t), 'nested', 'certs')
  const started = performance.now()
  const first = await loadOrCreateCertificate({ certsDir: dir })
  t.comment(`generation + write took ${(performance.now() - started).toFixed(0)} ms`)

  t.equal(first.generated, true)
  t.equal(first.certFile, join(dir, 'cert.pem'))
  t.equal(first.keyFile, join(dir, 'key.pem'))
  t.match(first.fingerprint, FINGERPRINT)
  t.equal(await readFile(join(dir, 'cert.pem'), 'utf8'), first.cert)
  t.equal(await readFile(join(dir, 'key.pem'), 'utf8'), first.key)
  t.same((await readdir(dir)).sort(), ['cert.pem', 'key.pem'], 'no temporary files left behind')
  const storedKey = createPrivateKey(first.key)
  t.equal(storedKey.asymmetricKeyType, 'rsa', 'a stored pair is RSA')
  t.equal(storedKey.asymmetricKeyDetails?.modulusLength, 2048)
  t.same(new X509Certificate(first.cert).toLegacyObject().ext_key_usage, ['1.3.6.1.5.5.7.3.1'])
  if (hasOpenssl) {
    const text = spawnSync('openssl', ['x509', '-noout', '-text'], { input: first.cert, encoding: 'utf8' }).stdout
    t.match(text, /Signature Algorithm: sha256WithRSAEncryption/)
    t.match(text, /Digital Signature, Key Encipherment/, 'RSA key usage')
  }
  if (posix) {
    t.equal((await stat(join(dir, 'key.pem'))).mode & 0o777, 0o600, 'key.pem is 0600')
    t.equal((await stat(join(dir, 'cert.pem'))).mode & 0o777, 0o644, 'cert.pem is 0644')
  }
  const before = await Promise.all(['cert.pem', 'key.pem'].map(f => stat(join(dir, f))))

  const second = await loadOrCreateCertificate({ certsDir: dir })
  t.equal(second.generated, false)
  t.equal(second.fingerprint, first.fingerprint, 'same fingerprint on the next start')
  t.equal(second.cert, first.cert)
  t.equal(second.key, first.key)
  t.same(second.warnings, [])
  const after = await Promise.all(['cert.pem', 'key.pem'].map(f => stat(join(dir, f))))
  for (const [i, s] of after.entries()) {
    t.equal(s.ino, before[i]?.ino, 'file not replaced')
    t.equal(s.mtimeMs, before[i]?.mtimeMs, 'file not rewritten')
  }
})

t.test('the generated certificate: SANs, subject, key, validity', async t => {
  const m = await loadOrCreateCertificate({ inMemory: true, hostname: 'Kraken.Lab.Example' })
  const x = new X509Certificate(m.cert)
  const sans = (x.subjectAltName ?? '').split(', ')
  t.ok(sans.includes('DNS:localhost'), 'DNS:localhost')
  t.ok(sans.includes('DNS:kraken.lab.example'), 'DNS:<hostname>')
  t.ok(sans.includes('IP Address:127.0.0.1'), 'IP 127.0.0.1')
  t.equal(x.checkIP('::1'), '::1', 'IP ::1')
  t.equal(x.checkHost('localhost'), 'localhost')
  t.equal(x.checkHost('kraken.lab.example'), 'kraken.lab.example')
  t.equal(x.checkHost('other.example'), undefined, 'no other name')
  t.equal(x.subject, 'CN=kraken-emulator')
  t.equal(x.ca, false)
  t.same(x.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth')
  t.ok(x.verify(x.publicKey), 'self-signed')
  t.equal(m.fingerprint, x.fingerprint256)
  // In memory (the test-fixture case) the key is ECDSA P-256: ~10 ms to generate instead of ~250.
  const key = createPrivateKey(m.key)
  t.equal(key.asymmetricKeyType, 'ec')
  t.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365.25 * 24 * 3600 * 1000)
  t.ok(years > 9.9 && years < 10.1, `valid ~10 years (${years.toFixed(2)})`)
  t.ok(Date.parse(x.validFrom) < Date.now() - 3600 * 1000, 'back-dated for clock skew')
  if (hasOpenssl) {
    const text = spawnSync('openssl', ['x509', '-noout', '-text'], { input: m.cert, encoding: 'utf8' }).stdout
    t.match(text, /Signature Algorithm: ecdsa-with-SHA256/)
    t.match(text, /X509v3 Key Usage: critical\s+Digital Signature\s*\n/, 'no keyEncipherment on an EC key (RFC 5480)')
  }

  const ip = new X509Certificate((await loadOrCreateCertificate({ inMemory: true, hostname: '10.1.2.3' })).cert)
  t.ok(ip.subjectAltName?.split(', ').includes('IP Address:10.1.2.3'), 'IP hostname becomes an IP SAN')
  t.notOk(ip.subjectAltName?.includes('DNS:10.1.2.3'))
  const v6 = new X509Certificate((await loadOrCreateCertificate({ inMemory: true, hostname: '[fd00::5]' })).cert)
  t.equal(v6.checkIP('fd00::5'), 'fd00::5', 'bracketed IPv6 hostname')

  await rejectsCertificateError(t, loadOrCreateCertificate({ inMemory: true, hostname: 'bad host/name' }),
    /--hostname "bad host\/name" is neither a DNS name nor an IP address/)
})

t.test('inMemory generates without touching the disk', async t => {
  const dir = join(await tempDir(t), 'certs')
  const a = await loadOrCreateCertificate({ certsDir: dir, inMemory: true })
  const b = await loadOrCreateCertificate({ certsDir: dir, inMemory: true })
  t.equal(a.generated, true)
  t.equal(a.certFile, undefined)
  t.equal(a.keyFile, undefined)
  t.notOk(existsSync(dir), 'certsDir not created')
  t.not(a.fingerprint, b.fingerprint, 'a fresh pair each time')
})

t.test('user-supplied --cert/--key are used as they are', async t => {
  const dir = await tempDir(t)
  const { certFile, keyFile } = await makePair(dir, 'user.example')
  const certsDir = join(dir, 'certs')
  const m = await loadOrCreateCertificate({ certFile, keyFile, certsDir })
  t.equal(m.generated, false)
  t.equal(m.cert, await readFile(certFile, 'utf8'))
  t.equal(m.key, await readFile(keyFile, 'utf8'))
  t.equal(m.certFile, certFile)
  t.equal(m.keyFile, keyFile)
  t.equal(m.fingerprint, new X509Certificate(await readFile(certFile)).fingerprint256)
  t.notOk(existsSync(certsDir), 'certsDir neither read nor written')
  if (hasOpenssl) {
    const out = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile], { encoding: 'utf8' }).stdout
    t.equal(m.fingerprint, out.trim().replace(/^sha256 Fingerprint=/i, ''), 'same as openssl prints')
  }
  // They win over inMemory too.
  t.equal((await loadOrCreateCertificate({ certFile, keyFile, inMemory: true })).fingerprint, m.fingerprint)
})

t.test('--cert without --key (and the reverse) is an error', async t => {
  const dir = await tempDir(t)
  const { certFile, keyFile } = await makePair(dir, 'one')
  await rejectsCertificateError(t, loadOrCreateCertificate({ certFile, certsDir: dir }), /^--cert given without --key: --cert and --key go together$/)
  await rejectsCertificateError(t, loadOrCreateCertificate({ keyFile, certsDir: dir }), /^--key given without --cert: --cert and --key go together$/)
  t.same((await readdir(dir)).sort(), ['one.crt', 'one.key'], 'nothing generated instead')
})

t.test('an unreadable file is an error naming the file and the reason', async t => {
  const dir = await tempDir(t)
  const { certFile, keyFile } = await makePair(dir, 'pair')
  const missing = join(dir, 'missing.pem')
  const e1 = await rejectsCertificateError(t, loadOrCreateCertificate({ certFile: missing, keyFile }), /ENOENT/)
  t.ok(e1.message.includes(`--cert file ${missing}`), e1.message)
  const e2 = await rejectsCertificateError(t, loadOrCreateCertificate({ certFile, keyFile: missing }), /ENOENT/)
  t.ok(e2.message.includes(`--key file ${missing}`), e2.message)
  const e3 = await rejectsCertificateError(t, loadOrCreateCertificate({ certFile: dir, keyFile }), /EISDIR/)
  t.ok(e3.message.includes(dir), e3.message)
})

t.test('a key that does not match the certificate is an error', async t => {
  const dir = await tempDir(t)
  const a = await makePair(dir, 'a')
  const b = await makePair(dir, 'b')
  const err = await rejectsCertificateError(t, loadOrCreateCertificate({ certFile: a.certFile, keyFile: b.keyFile }),
    /does not match the certificate/)
  t.ok(err.message.includes(b.keyFile) && err.message.includes(a.certFile), err.message)
  const keyBody = (await readFile(b.keyFile, 'utf8')).split('\n')[1] ?? ''
  t.ok(keyBody.length > 20 && !err.message.includes(keyBody), 'no key material in the message')
  t.ok(!err.stack?.includes(keyBody), 'nor in the stack')
})

t.test('files that are not PEM, or an encrypted key, are clear errors', async t => {
  const dir = await tempDir(t)
  const { certFile, keyFile } = await makePair(dir, 'p')
  await rejectsCertificateError(t, loadOrCreateCertificate({ certFile: keyFile, keyFile: certFile }), /is not a PEM certificate/)
  const garbage = join(dir, 'garbage.pem')
  await writeFile(garbage, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  await rejectsCertificateError(t, loadOrCreateCertificate({ certFile: garbage, keyFile }), /is not a valid X.509 certificate/)
  const encrypted = join(dir, 'enc.key')
  await writeFile(encrypted, createPrivateKey(await readFile(keyFile)).export({
    type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret'
  }))
  await rejectsCertificateError(t, loadOrCreateCertificate({ certFile, keyFile: encrypted }), /is encrypted/)
})

t.test('only one of cert.pem/key.pem in certsDir is an error', async t => {
  const source = await makePair(await tempDir(t), 'half')

  const certOnly = await tempDir(t)
  await writeFile(join(certOnly, 'cert.pem'), await readFile(source.certFile))
  await rejectsCertificateError(t, loadOrCreateCertificate({ certsDir: certOnly }),
    new RegExp(`holds ${join(certOnly, 'cert.pem')} but not ${join(certOnly, 'key.pem')}`))
  t.same(await readdir(certOnly), ['cert.pem'], 'nothing written')

  const keyOnly = await tempDir(t)
  await writeFile(join(keyOnly, 'key.pem'), await readFile(source.keyFile), { mode: 0o600 })
  const old = new Date(Date.now() - 60_000)
  await utimes(join(keyOnly, 'key.pem'), old, old)
  const started = Date.now()
  await rejectsCertificateError(t, loadOrCreateCertificate({ certsDir: keyOnly }),
    new RegExp(`holds ${join(keyOnly, 'key.pem')} but not ${join(keyOnly, 'cert.pem')}`))
  t.ok(Date.now() - started < 1000, 'an old half pair fails at once')
  t.same(await readdir(keyOnly), ['key.pem'], 'nothing written')

  // A brand-new key.pem may be another process mid-write: it is waited for, then fails if alone...
  const fresh = await tempDir(t)
  await writeFile(join(fresh, 'key.pem'), await readFile(source.keyFile), { mode: 0o600 })
  await rejectsCertificateError(t, loadOrCreateCertificate({ certsDir: fresh }), /holds .*key\.pem but not .*cert\.pem/)

  // ...and succeeds when its cert.pem shows up meanwhile.
  const completing = await tempDir(t)
  await writeFile(join(completing, 'key.pem'), await readFile(source.keyFile), { mode: 0o600 })
  const pending = loadOrCreateCertificate({ certsDir: completing })
  setTimeout(() => { void readFile(source.certFile).then(c => writeFile(join(completing, 'cert.pem'), c)) }, 200)
  const m = await pending
  t.equal(m.generated, false)
  t.equal(m.fingerprint, fingerprintOf(await readFile(source.certFile, 'utf8')))
})

t.test('concurrent first starts agree on one complete pair', async t => {
  const dir = await tempDir(t)
  const results = await Promise.all(Array.from({ length: 4 }, () => loadOrCreateCertificate({ certsDir: dir })))
  t.equal(results.filter(r => r.generated).length, 1, 'exactly one generated the pair')
  const onDisk = fingerprintOf(await readFile(join(dir, 'cert.pem'), 'utf8'))
  for (const r of results) t.equal(r.fingerprint, onDisk)
  t.ok(new X509Certificate(await readFile(join(dir, 'cert.pem'))).checkPrivateKey(createPrivateKey(await readFile(join(dir, 'key.pem')))),
    'key.pem matches cert.pem')
  t.same((await readdir(dir)).sort(), ['cert.pem', 'key.pem'], 'no temporary files left behind')
})

t.test('warnings: key readable by others, hostname not covered', async t => {
  const dir = await tempDir(t)
  await loadOrCreateCertificate({ certsDir: dir })
  const m = await loadOrCreateCertificate({ certsDir: dir, hostname: 'not-in-cert.example' })
  t.equal(m.warnings?.length, 1)
  t.match(m.warnings?.[0], /does not cover --hostname not-in-cert\.example/)
  t.same((await loadOrCreateCertificate({ certsDir: dir, hostname: '127.0.0.1' })).warnings, [], 'covered IP: no warning')
  if (posix) {
    await chmod(join(dir, 'key.pem'), 0o644)
    const w = (await loadOrCreateCertificate({ certsDir: dir })).warnings ?? []
    t.equal(w.length, 1)
    t.match(w[0], /key\.pem is readable by other users \(mode 0644\); chmod 600 it/)
  }
})

t.test('fingerprint format is the one openssl prints', async t => {
  const m = await loadOrCreateCertificate({ inMemory: true })
  t.match(m.fingerprint, FINGERPRINT)
  t.equal(fingerprintOf(m.cert), m.fingerprint)
  if (hasOpenssl) {
    const out = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: m.cert, encoding: 'utf8' }).stdout.trim()
    t.match(out, /^sha256 Fingerprint=/i)
    t.equal(out.replace(/^sha256 Fingerprint=/i, ''), m.fingerprint)
  }
  t.throws(() => fingerprintOf('not a certificate'), CertificateError)
})

t.test('a TLS server with the generated material is reachable and verifiable', async t => {
  const m = await loadOrCreateCertificate({ inMemory: true, hostname: 'kraken.test' })
  const server = tlsServer(m)
  const port = await listen(server)
  t.teardown(() => close(server))

  const viaName = await handshake({ host: '127.0.0.1', port, ca: m.cert, servername: 'localhost' })
  t.equal(viaName.authorized, true, 'localhost verifies')
  t.equal(viaName.protocol, 'TLSv1.3')
  t.equal((await handshake({ host: '127.0.0.1', port, ca: m.cert })).authorized, true, '127.0.0.1 verifies (IP SAN)')
  t.equal((await handshake({ host: '127.0.0.1', port, ca: m.cert, servername: 'kraken.test' })).authorized, true, '--hostname verifies')
  t.equal((await handshake({ host: '127.0.0.1', port, ca: m.cert, servername: 'localhost', maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2', 'TLS 1.2 works')

  await t.rejects(handshake({ host: '127.0.0.1', port, ca: m.cert, servername: 'other.test' }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
  await t.rejects(handshake({ host: '127.0.0.1', port, servername: 'localhost' }), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'untrusted without ca')

  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', ca: m.cert, servername: 'localhost' }, res => {
      let data = ''
      res.setEncoding('utf8').on('data', c => { data += c }).on('end', () => resolve(data))
    }).on('error', reject).end()
  })
  t.equal(body, '{"ok":true}', 'node:https request')

  const agent = new Agent({ connect: { ca: m.cert } })
  t.teardown(() => agent.close())
  const res = await fetch(`https://127.0.0.1:${port}/`, { dispatcher: agent })
  t.same(await res.json(), { ok: true }, 'undici fetch')
})

t.test('tlsServerOptions refuses TLS 1.1', async t => {
  t.equal(tlsServerOptions.minVersion, 'TLSv1.2')
  const m = await loadOrCreateCertificate({ inMemory: true })
  // OpenSSL 3 only speaks TLS 1.1 at security level 0, so the client opts into it explicitly.
  const tls11: ConnectionOptions = {
    host: '127.0.0.1', ca: m.cert, servername: 'localhost',
    minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0'
  }

  // Control: the same client does get through to a server that allows TLS 1.1,
  // so the refusal below comes from tlsServerOptions and not from the client.
  const permissive = tlsServer(m, { minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })
  const permissivePort = await listen(permissive)
  t.teardown(() => close(permissive))
  t.equal((await handshake({ ...tls11, port: permissivePort })).protocol, 'TLSv1.1', 'control: TLS 1.1 client works')

  const strict = tlsServer(m, { ...tlsServerOptions, ciphers: 'DEFAULT@SECLEVEL=0' })
  const strictPort = await listen(strict)
  t.teardown(() => close(strict))
  await t.rejects(handshake({ ...tls11, port: strictPort }), { message: /protocol version|unsupported protocol/i }, 'TLS 1.1 refused')
  t.equal((await handshake({ host: '127.0.0.1', port: strictPort, ca: m.cert, servername: 'localhost' })).protocol, 'TLSv1.3')
})
