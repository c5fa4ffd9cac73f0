// Slow clients (issue 13) over a real HTTPS port, with small limits: a client that does not send
// its TLS handshake or request head within --header-timeout, or its whole request within
// --request-timeout, is cut off without an answer (as nginx does); past --max-connections a new
// connection is closed at once; an idle keep-alive connection is none of these. Each wait below
// is for the emulator to act on a limit of 100-200 ms: a few hundred milliseconds of real time.
import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { startHttps, send } from './helpers/https.ts'

type Emu = Awaited<ReturnType<typeof startHttps>>

interface Ending { received: string, error: string | undefined }

/** Opens a TLS connection, writes `data` once connected, and resolves when the server ends it. */
function tlsClient (emu: Emu, data: string): { connected: Promise<void>, ended: Promise<Ending>, socket: tls.TLSSocket } {
  const socket = tls.connect({ host: '127.0.0.1', port: emu.port, ca: emu.certificate, servername: 'localhost' })
  let received = ''
  let error: string | undefined
  socket.setEncoding('utf8').on('data', (chunk: string) => { received += chunk })
  socket.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message })
  const connected = new Promise<void>(resolve => socket.once('secureConnect', () => {
    if (data !== '') socket.write(data)
    resolve()
  }))
  const ended = new Promise<Ending>(resolve => socket.once('close', () => resolve({ received, error })))
  return { connected, ended, socket }
}

const limits = { headerTimeout: 100, requestTimeout: 200 }

t.test('a client that is slow to send its request head is cut off without an answer', async t => {
  const emu = await startHttps(limits)
  t.teardown(() => emu.close())
  for (const [what, data] of [['nothing at all', ''], ['half a request head', 'POST /apis/v2/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl']] as const) {
    const client = tlsClient(emu, data)
    await client.connected
    const ending = await client.ended
    t.equal(ending.received, '', `${what}: closed, nothing sent back (as nginx does)`)
  }
  // Not even a TLS handshake: the same limit.
  const raw = net.connect(emu.port, '127.0.0.1')
  raw.on('error', () => {})
  await new Promise(resolve => raw.once('close', resolve))
  t.pass('a connection that never starts its TLS handshake is closed too')
  t.equal((await send(emu, 'GET', '/_emulator/health')).status, 200, 'the emulator serves others all along')
})

t.test('the plain-HTTP redirect port cuts slow clients off too', async t => {
  const emu = await startHttps({ ...limits, httpPort: 0 })
  t.teardown(() => emu.close())
  const socket = net.connect(emu.httpPort!, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: loc'))
  let received = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => { received += chunk })
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('close', resolve))
  t.equal(received, '', 'closed, nothing sent back')
})

t.test('a client that is slow to send its request body is cut off without an answer', async t => {
  const emu = await startHttps(limits)
  t.teardown(() => emu.close())
  const head = 'POST /apis/v2/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n'
  const client = tlsClient(emu, head + '{"username":"haiadmin",')
  await client.connected
  // Then a byte now and then, never the whole body: each arrives within the head limit.
  const drip = (async () => {
    for (let i = 0; i < 20 && !client.socket.destroyed; i++) {
      await sleep(40)
      if (!client.socket.destroyed) client.socket.write(' ')
    }
  })()
  const ending = await client.ended
  await drip
  t.equal(ending.received, '', 'closed within the request limit, nothing sent back (as nginx does)')
  t.ok(client.socket.destroyed)
})

t.test('an idle keep-alive connection outlives the head and request limits', async t => {
  const emu = await startHttps(limits)
  t.teardown(() => emu.close())
  const request = 'GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\n\r\n'
  const client = tlsClient(emu, request)
  await client.connected
  await sleep(2 * limits.requestTimeout) // idle, between two requests, well past both limits
  t.notOk(client.socket.destroyed, 'still open')
  client.socket.write('GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
  const ending = await client.ended
  t.equal(ending.received.match(/HTTP\/1\.1 200 /g)?.length, 2, 'both requests answered on the one connection')
})

t.test('past --max-connections a new connection is closed at once; below it, connections are served', async t => {
  const emu = await startHttps({ maxConnections: 3 })
  t.teardown(() => emu.close())
  const open = [tlsClient(emu, ''), tlsClient(emu, ''), tlsClient(emu, '')]
  await Promise.all(open.map(client => client.connected))
  const extra = tlsClient(emu, '')
  const ending = await extra.ended
  t.equal(ending.received, '', 'the fourth is closed without an answer')
  t.ok(ending.error !== undefined, `and without a TLS handshake (${String(ending.error)})`)

  open[0]!.socket.destroy()
  await open[0]!.ended
  // The server learns of the close asynchronously: the next connection may still find it full.
  let status = 0
  for (let i = 0; i < 50 && status === 0; i++) status = await send(emu, 'GET', '/_emulator/health').then(res => res.status, () => 0)
  t.equal(status, 200, 'a slot freed: a new connection is served')
  for (const client of open) client.socket.destroy()
})
