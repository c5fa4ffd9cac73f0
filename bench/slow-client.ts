// `npx tsx bench/slow-client.ts [-- <emulator options>]`: when the emulator, with its default
// limits (or the options given), cuts off slow clients (issue 13). The emulator runs in a child
// process (`node dist/cli.js`, in memory); four clients connect at once and each is timed from
// its TCP connect to the close by the server:
// - a TCP connection that never starts its TLS handshake;
// - a TLS connection that sends nothing;
// - a TLS connection that sends half a request head, then a byte every second (slowloris);
// - a TLS connection that sends a whole head announcing 100 bytes of body, then a byte every second.
// Takes as long as the longest limit (60 s by default).
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import tls from 'node:tls'
import { loadOrCreateCertificate } from '../src/tls/certificate.ts'
import { prepareLaunchers } from './build.ts'
import { describeRevision } from './machine.ts'
import { REPO_ROOT, spawnServer, type ServerProcess } from './spawn-server.ts'

interface Outcome { what: string, ms: number, answer: string }

function client (what: string, port: number, ca: string | undefined, first: string, drip: string): Promise<Outcome> {
  return new Promise(resolve => {
    const start = performance.now()
    const socket = ca === undefined ? net.connect(port, '127.0.0.1') : tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' })
    let answer = ''
    let timer: NodeJS.Timeout | undefined
    socket.on(ca === undefined ? 'connect' : 'secureConnect', () => {
      if (first !== '') socket.write(first)
      if (drip !== '') timer = setInterval(() => socket.write(drip), 1000)
    })
    socket.setEncoding('utf8').on('data', (chunk: string) => { answer += chunk })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ what, ms: performance.now() - start, answer: answer === '' ? 'nothing' : JSON.stringify(answer.split('\r\n')[0]) })
    })
  })
}

async function main (): Promise<void> {
  const extra = process.argv.slice(2).filter(arg => arg !== '--')
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kraken-slow-'))
  let server: ServerProcess | undefined
  try {
    const launchers = await prepareLaunchers('dist', path.join(dir, 'build'))
    const certs = path.join(dir, 'certs')
    const { cert } = await loadOrCreateCertificate({ certsDir: certs })
    server = await spawnServer({ ...launchers.emulator, args: ['--port', '0', '--print-ready', 'json', '--in-memory', '--certs', certs, '--log-level', 'warn', ...extra], timeoutMs: 180_000 })
    const port = server.ready.port
    const outcomes = await Promise.all([
      client('TCP, no TLS handshake', port, undefined, '', ''),
      client('TLS, nothing sent', port, cert, '', ''),
      client('TLS, half a head then a byte a second', port, cert, 'POST /apis/v2/login HTTP/1.1\r\nHost: localhost\r\n', 'X'),
      client('TLS, whole head, body of 100 bytes at a byte a second', port, cert, 'POST /apis/v2/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', ' ')
    ])
    process.stdout.write([
      `## Slow clients (${new Date().toISOString()}, ${describeRevision(REPO_ROOT)}, options: ${extra.length === 0 ? 'defaults' : extra.join(' ')})`, '',
      '| client | closed by the server after | answer |', '|---|---:|---|',
      ...outcomes.map(o => `| ${o.what} | ${(o.ms / 1000).toFixed(2)} s | ${o.answer} |`), ''
    ].join('\n'))
  } finally {
    await server?.kill()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
