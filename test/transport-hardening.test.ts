// Transport details of the attack review (issue 10): only forward-secret AEAD suites, the store's
// files private to their owner, and the HTTP parser's own refusals in the device's envelope.
import t from 'tap'
import { readFile, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import tls from 'node:tls'
import { startHttps, loginHttps, send } from './helpers/https.ts'

function handshake (port: number, ca: string, options: tls.ConnectionOptions): Promise<string> {
  return new Promise(resolve => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...options }, () => {
      const cipher = socket.getCipher().name
      socket.end()
      resolve(cipher)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code ?? error.message}`))
  })
}

t.test('TLS offers only forward-secret AEAD suites', async t => {
  // A certs directory: the stored pair is RSA, the key type static-RSA suites need.
  const certs = t.testdir()
  const emu = await startHttps({ certs })
  t.teardown(() => emu.close())
  const key = await readFile(path.join(certs, 'key.pem'), 'utf8')

  // Control: this client can negotiate the weak suites with a server that offers them.
  const lenient = tls.createServer({ cert: emu.certificate, key, ciphers: 'DEFAULT:AES128-SHA:@SECLEVEL=0' }, s => s.end())
  await new Promise<void>(resolve => lenient.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => lenient.close(() => resolve())))
  const lenientPort = (lenient.address() as { port: number }).port
  const tls12 = { maxVersion: 'TLSv1.2' as const }
  t.equal(await handshake(lenientPort, emu.certificate, { ...tls12, ciphers: 'AES128-SHA:@SECLEVEL=0' }), 'AES128-SHA', 'control: the client speaks AES128-SHA')

  for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
    t.match(await handshake(emu.port, emu.certificate, { ...tls12, ciphers: `${weak}:@SECLEVEL=0` }), /^refused/, `${weak} refused`)
  }
  t.equal(await handshake(emu.port, emu.certificate, { ...tls12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), 'ECDHE-RSA-AES128-GCM-SHA256', 'TLS 1.2 ECDHE-GCM accepted')
  t.equal(await handshake(emu.port, emu.certificate, { ...tls12, ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' }), 'ECDHE-RSA-CHACHA20-POLY1305', 'TLS 1.2 ChaCha20-Poly1305 accepted')
  t.match(await handshake(emu.port, emu.certificate, { minVersion: 'TLSv1.3' }), /^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/, 'TLS 1.3 accepted')
})

t.test('an in-memory (ECDSA) certificate negotiates ECDHE-ECDSA-GCM', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  t.equal(await handshake(emu.port, emu.certificate, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'ECDHE-ECDSA-AES128-GCM-SHA256')
  t.match(await handshake(emu.port, emu.certificate, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /^refused/, 'ECDSA with CBC-SHA1 refused')
})

t.test('the data file, journal and lock are created 0600', async t => {
  const dir = t.testdir()
  const data = path.join(dir, 'kraken.json')
  const emu = await startHttps({ data, inMemory: false })
  let closed = false
  t.teardown(() => closed ? undefined : emu.close())
  const cookie = await loginHttps(emu)
  const created = await send(emu, 'POST', '/apis/v2/inputs', { cookie, body: { name: 'mode check', protocol: 'ts_srt', srt_mode: 'listener', srt_port: 7010, srt_encryption: 'aes128', srt_passphrase: 'private-passphrase-1' } })
  t.equal(created.status, 201, 'a write with a passphrase')
  const files = (await readdir(dir)).filter(f => f.startsWith('kraken.json'))
  t.ok(files.includes('kraken.json') && files.includes('kraken.json.lock') && files.some(f => f.includes('journal')), `data, lock and journal exist: ${files.join(', ')}`)
  for (const file of files) {
    const mode = (await stat(path.join(dir, file))).mode & 0o777
    t.equal(mode.toString(8), '600', `${file} is 0600`)
  }
  // Closed here, before tap removes the test directory.
  closed = true
  await emu.close()
})

function rawExchange (emu: { port: number, certificate: string }, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: emu.port, ca: emu.certificate, servername: 'localhost' }, () => socket.write(bytes))
    let text = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
    socket.once('end', () => resolve(text))
    socket.once('error', reject)
  })
}

function parse (response: string): { status: number, head: string, body: unknown } {
  const split = response.indexOf('\r\n\r\n')
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]), head: response.slice(0, split), body: JSON.parse(response.slice(split + 4)) as unknown }
}

t.test("Node's parser errors answer in the envelope with the device headers", async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cases: Array<[string, string, number, string]> = [
    ['an oversized header', `GET /apis/v2/streams HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'RequestHeaderFieldsTooLarge'],
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'Validation'],
    ['a bad header name', 'GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n', 400, 'Validation'],
    ['a bad chunked body', 'POST /apis/v2/login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'Validation']
  ]
  for (const [label, bytes, status, type] of cases) {
    const res = parse(await rawExchange(emu, bytes))
    t.equal(res.status, status, `${label} -> ${status}`)
    t.match(res.head, /^server: nginx$/im, `${label}: Server: nginx`)
    t.match(res.head, /^strict-transport-security: max-age=31536000; includeSubDomains$/im, `${label}: HSTS`)
    t.match(res.head, /^content-type: application\/json; charset=utf-8$/im, `${label}: JSON`)
    t.match(res.body, { error: { type, message: String, details: [] } }, `${label}: the envelope`)
  }
})
