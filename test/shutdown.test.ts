// The command line as scripts drive it (issue 6): the --print-ready json line, and graceful
// shutdown on SIGTERM/SIGINT (stop accepting, finish the writes in flight, flush, exit 0), with
// the data file checked by starting again on it. Also: a reset is durable when it answers.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { Agent, request } from 'undici'
import { startCli, type CliProcess } from './helpers/cli-process.ts'
import { cliCommand } from './helpers/prepared.ts'

// This run's build when `npm test` made one, else the sources: runnable from any directory.
const [node, cliArgs] = cliCommand()

interface Running extends CliProcess { agent: Agent, ca: string }

/** Starts the CLI on a data file and certs directory in `dir`. */
async function start (t: Test, dir: string, extra: string[] = []): Promise<Running> {
  const cli = await startCli(node, [...cliArgs, '--port', '0', '--print-ready', 'json', '--data', join(dir, 'kraken.json'),
    '--certs', join(dir, 'certs'), '--transition-ms', '0', '--log-level', 'warn', ...extra], { cwd: dir })
  const ca = await readFile(join(dir, 'certs', 'cert.pem'), 'utf8')
  const agent = new Agent({ connect: { ca } })
  t.teardown(async () => {
    await agent.close()
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  })
  return { ...cli, agent, ca }
}

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-shutdown-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function call (emu: Running, method: 'GET' | 'POST', path: string, options: { cookie?: string, body?: unknown } = {}) {
  const headers: Record<string, string> = {}
  if (options.cookie !== undefined) headers.cookie = options.cookie
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await request(emu.ready.url + path, { method, headers, dispatcher: emu.agent, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> }
}

async function login (emu: Running): Promise<string> {
  const res = await call(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })
  if (res.status !== 204) throw new Error(`login answered ${res.status}`)
  return `id=${String(([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean))}`
}

async function inputNames (emu: Running): Promise<string[]> {
  const res = await call(emu, 'GET', '/apis/v2/inputs', { cookie: await login(emu) })
  return (res.json().input_list as Array<{ name: string }>).map(i => i.name)
}

const input = (name: string, octet: number) => ({ name, protocol: 'ts_udp', url: `udp://239.6.6.${octet}:5000` })

/**
 * A POST whose headers the server has parsed (it answered `100 Continue`) but whose body is not
 * sent yet: a write that is certainly in flight. `finish()` sends the body and reads the reply.
 */
async function writeInFlight (emu: Running, cookie: string, body: unknown): Promise<{ finish: () => Promise<{ status: number, text: string }> }> {
  const socket = tls.connect({ host: '127.0.0.1', port: emu.ready.port, ca: emu.ca, servername: 'localhost' })
  await once(socket, 'secureConnect')
  const payload = JSON.stringify(body)
  let received = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => { received += chunk })
  socket.write(`POST /apis/v2/inputs HTTP/1.1\r\nHost: localhost\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\nExpect: 100-continue\r\n\r\n`)
  while (!received.includes('\r\n\r\n')) await once(socket, 'data')
  if (!received.startsWith('HTTP/1.1 100 Continue')) throw new Error(`expected 100 Continue, got ${received}`)
  received = received.slice(received.indexOf('\r\n\r\n') + 4)
  return {
    finish: async () => {
      socket.write(payload)
      for (;;) {
        const head = received.indexOf('\r\n\r\n')
        const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? NaN)
        if (head !== -1 && received.length >= head + 4 + length) {
          socket.destroy()
          return { status: Number(received.slice(9, 12)), text: received.slice(head + 4, head + 4 + length) }
        }
        await Promise.race([once(socket, 'data'), once(socket, 'close').then(() => { throw new Error(`connection closed; got ${received}`) })])
      }
    }
  }
}

/** Resolves once a new connection to `port` is refused (the server stopped accepting). */
async function refusedWithin (port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>(resolve => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(false) })
      socket.once('error', error => resolve((error as NodeJS.ErrnoException).code === 'ECONNREFUSED'))
    })
    if (refused) return true
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return false
}

t.test('--print-ready json: one JSON line on stdout, logs on stderr', async t => {
  const dir = await tempDir(t)
  const emu = await start(t, dir, ['--log-level', 'info'])
  t.same(Object.keys(emu.ready), ['schema', 'url', 'port', 'fingerprint', 'pid'])
  t.equal(emu.ready.url, `https://127.0.0.1:${emu.ready.port}`)
  t.equal(emu.ready.pid, emu.child.pid, 'the pid of the emulator itself')
  t.equal(emu.ready.fingerprint, new X509Certificate(emu.ca).fingerprint256, 'the fingerprint of the certificate it serves')
  t.equal((await call(emu, 'GET', '/_emulator/health')).status, 200)
  emu.child.kill('SIGTERM')
  t.equal(await emu.exited, 0)
  t.equal(emu.stdoutLines.length, 1, `stdout holds the ready line only: ${emu.stdoutLines.join('\n')}`)
  t.match(emu.stderr(), /"msg":"listening on https:\/\/127\.0\.0\.1:\d+"/, 'the logs went to stderr')
  t.match(emu.stderr(), /_emulator\/health/, 'request logs too')
})

t.test('SIGTERM: stops accepting, finishes the write in flight, flushes, exits 0', async t => {
  const dir = await tempDir(t)
  const emu = await start(t, dir)
  const cookie = await login(emu)
  const pending = await writeInFlight(emu, cookie, input('written-during-shutdown', 1))

  const signalled = Date.now()
  process.kill(emu.ready.pid, 'SIGTERM')
  t.ok(await refusedWithin(emu.ready.port, 5000), 'new connections are refused')
  t.equal(emu.child.exitCode, null, 'still running while a request is in flight')
  const reply = await pending.finish()
  t.equal(reply.status, 201, 'the write in flight completed')
  t.equal(await emu.exited, 0, 'exit status 0')
  t.comment(`exited ${Date.now() - signalled} ms after SIGTERM`)
  t.equal(emu.stderr(), '', 'nothing on stderr')

  const again = await start(t, dir)
  t.ok((await inputNames(again)).includes('written-during-shutdown'), 'the write is in the data file (and its lock was released)')
  again.child.kill('SIGTERM')
  t.equal(await again.exited, 0)
})

t.test('SIGINT: exits 0 and the data survives; a second SIGINT exits at once', async t => {
  const dir = await tempDir(t)
  const emu = await start(t, dir)
  t.equal((await call(emu, 'POST', '/apis/v2/inputs', { cookie: await login(emu), body: input('written-before-sigint', 2) })).status, 201)
  process.kill(emu.ready.pid, 'SIGINT')
  t.equal(await emu.exited, 0)

  const again = await start(t, dir)
  t.ok((await inputNames(again)).includes('written-before-sigint'), 'the write survived')
  // A request that never completes holds the graceful close open; a second Ctrl-C does not wait.
  const stuck = await writeInFlight(again, await login(again), input('never-finished', 3))
  void stuck
  process.kill(again.ready.pid, 'SIGINT')
  t.ok(await refusedWithin(again.ready.port, 5000), 'the first SIGINT stopped accepting')
  const second = Date.now()
  process.kill(again.ready.pid, 'SIGINT')
  t.equal(await again.exited, 130, '128 + SIGINT')
  t.ok(Date.now() - second < 2000, 'at once, not after the close grace period')
  t.match(again.stderr(), /SIGINT again/)
})

t.test('a reset is durable by the time it answers', async t => {
  const dir = await tempDir(t)
  const first = await start(t, dir)
  t.equal((await call(first, 'POST', '/apis/v2/inputs', { cookie: await login(first), body: input('before-reset', 4) })).status, 201)
  first.child.kill('SIGKILL') // no graceful close: only what was durable survives
  await first.exited
  const second = await start(t, dir)
  t.ok((await inputNames(second)).includes('before-reset'), 'control: an answered write survives a kill')

  t.equal((await call(second, 'POST', '/_emulator/reset')).status, 200)
  second.child.kill('SIGKILL')
  await second.exited
  const third = await start(t, dir)
  t.notOk((await inputNames(third)).includes('before-reset'), 'an answered reset survives a kill')
  third.child.kill('SIGTERM')
  t.equal(await third.exited, 0)
})

t.test('a start that fails exits 2 with one line on stderr and no ready line', async t => {
  const dir = await tempDir(t)
  const blocker = net.createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => blocker.close(() => resolve())))
  const port = (blocker.address() as net.AddressInfo).port
  await t.rejects(startCli(node, [...cliArgs, '--port', String(port), '--print-ready', 'json', '--in-memory', '--certs', join(dir, 'certs')], { cwd: dir }),
    /exited \(2\) before its ready line; stderr: kraken-emulator: .*EADDRINUSE.*\n$/)
})
