// Issue 24: the capture's secrets are masked keeping their format, the same stand-in for the same
// value; and the recorder keeps what the device meant (a compressed answer, decompressed).
import t from 'tap'
import https from 'node:https'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { SecretMasker } from '../src/capture/secret-masker.ts'
import { Recorder } from '../src/capture/recorder.ts'
import { readCapture } from '../src/capture/capture-format.ts'
import { loadOrCreateCertificate } from '../src/tls/certificate.ts'

const masker = new SecretMasker(['srt_passphrase'])

t.test('each kind of secret keeps its format', async t => {
  const uuid = '3d0f6a52-8c1e-4b7a-9f23-5e1b0c7d4a96'
  const token = 'aZ3kQ9mN2pL8xV7cB1nM4qW6eR5tY0uI3oP9sD2f'
  const cases: Array<[string, RegExp]> = [
    [uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
    [token, /^[A-Za-z0-9]{40}$/],
    ['krakenapi', /^[a-z]{9}$/],
    ['Lab-Kraken-Pw-2026!', /^[A-Z][a-z]{2}-[A-Z][a-z]{5}-[A-Z][a-z]-\d{4}!$/],
    ['0123abcdef0123abcdef', /^[0-9a-f]{20}$/],
    ['-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n', /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9]{48}\n-----END PRIVATE KEY-----\n$/]
  ]
  for (const [secret, format] of cases) {
    const masked = masker.mask(secret)
    t.not(masked, secret, `${secret.slice(0, 20)} is replaced`)
    t.match(masked, format, 'by a value of the same format')
    t.equal(masker.mask(secret), masked, 'the same stand-in every time')
  }
  t.not(new SecretMasker([]).mask(uuid), masker.mask(uuid), 'another recording, another stand-in')
  t.equal(masker.mask(''), '', 'an empty value stays empty')
})

t.test('secrets are found in bodies, queries and headers; the rest is kept', async t => {
  const body = masker.maskJson({ username: 'haiadmin', password: 'krakenapi', nested: [{ srt_passphrase: 'passphrase-123', pin_password: 1234, name: 'x' }], key: 'PEM' }) as Record<string, unknown>
  t.equal(body.username, 'haiadmin')
  t.not(body.password, 'krakenapi')
  const nested = (body.nested as Array<Record<string, unknown>>)[0]!
  t.not(nested.srt_passphrase, 'passphrase-123')
  t.equal(typeof nested.pin_password, 'number', 'a numeric secret stays a number')
  t.equal(nested.name, 'x')
  t.not(body.key, 'PEM', 'a private key')
  t.equal(masker.maskQuery('full=true'), 'full=true')
  t.notMatch(masker.maskQuery('full=true&password=krakenapi'), /krakenapi/)
  const headers = masker.maskHeaders({
    cookie: 'id=3d0f6a52-8c1e-4b7a-9f23-5e1b0c7d4a96; DisplayUnsavedWarning=1',
    'set-cookie': ['id=3d0f6a52-8c1e-4b7a-9f23-5e1b0c7d4a96; Path=/; HttpOnly; Secure; SameSite=Strict'],
    authorization: 'Basic aGFpYWRtaW46a3Jha2VuYXBp',
    'x-kraken-control-token': 'abcDEF123',
    'content-type': 'application/json'
  })
  const id = masker.mask('3d0f6a52-8c1e-4b7a-9f23-5e1b0c7d4a96')
  t.equal(headers.cookie, `id=${id}; DisplayUnsavedWarning=${masker.mask('1')}`, 'cookie names kept, values masked')
  t.same(headers['set-cookie'], [`id=${id}; Path=/; HttpOnly; Secure; SameSite=Strict`], 'Set-Cookie attributes kept, the same stand-in as in Cookie')
  t.match(headers.authorization, /^Basic [A-Za-z0-9]{24}$/)
  t.notMatch(headers.authorization, /aGFpYWRtaW46a3Jha2VuYXBp/)
  t.match(headers['x-kraken-control-token'], /^[a-z]{3}[A-Z]{3}\d{3}$/)
  t.equal(headers['content-type'], 'application/json')
  t.notMatch(masker.maskText('{"username":"haiadmin","password":"krakenapi"'), /krakenapi/, 'a malformed body that names a secret is masked whole')
})

t.test('a compressed answer is relayed as it came and captured decompressed', async t => {
  const tls = await loadOrCreateCertificate({ inMemory: true })
  const json = JSON.stringify({ stream_list: [], password: 'krakenapi' })
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' })
    res.end(gzipSync(json))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'kraken-capture-mask-')), 'c.json')
  const recorder = new Recorder(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, { insecure: true, out, masker, mode: 'proxy' })
  t.teardown(() => recorder.close())
  const answer = await recorder.send({ method: 'GET', path: '/apis/v2/streams', query: '', headers: { 'accept-encoding': 'gzip' }, body: Buffer.alloc(0) })
  t.same(answer.body, gzipSync(json), 'the client gets the compressed bytes')
  const captured = readCapture(out).exchanges[0]!.response!.body
  t.same(captured?.json, { stream_list: [], password: masker.mask('krakenapi') }, 'the capture keeps the JSON, its secret masked')
})
