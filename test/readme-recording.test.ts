// Issue 24: the README chapter "Recording a real Kraken", its commands run as written (a shell
// runs each block) against a second emulator standing in for the device. The block marked
// "runs until Ctrl-C" is started, left running while the next block runs, then sent SIGINT.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmulator } from '../src/start-emulator.ts'
import { readCapture } from '../src/capture/capture-format.ts'
import { cliCommand } from './helpers/prepared.ts'
import { startAlteringProxy } from './helpers/altering-proxy.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const PASSWORD = 'Readme-Lab-Pass-2931!'

interface Block { code: string, background: boolean }

function chapterBlocks (): Block[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('\n## Recording a real Kraken\n')
  if (start === -1) throw new Error('README has no chapter "Recording a real Kraken"')
  const end = readme.indexOf('\n## ', start + 1)
  const chapter = readme.slice(start, end)
  return [...chapter.matchAll(/(<!-- runs until Ctrl-C -->\n)?```sh\n([\s\S]*?)```/g)].map(m => ({ code: m[2]!, background: m[1] !== undefined }))
}

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

t.test('the README\'s recording commands work as written against a stand-in device', async t => {
  const device = await startEmulator({ transitionMs: 0, adminPassword: PASSWORD })
  t.teardown(() => device.close())
  const proxy = await startAlteringProxy(device.url)
  t.teardown(() => proxy.close())

  const work = mkdtempSync(path.join(tmpdir(), 'kraken-readme-recording-'))
  const bin = path.join(work, '.bin')
  const [node, args] = cliCommand()
  const { mkdirSync } = await import('node:fs')
  mkdirSync(bin)
  const shim = path.join(bin, 'kraken-emulator')
  writeFileSync(shim, `#!/bin/sh\nexec ${[node, ...args].map(a => `'${a}'`).join(' ')} "$@"\n`)
  chmodSync(shim, 0o755)
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, DEVICE: proxy.url, PASSWORD, PORT: String(await freePort()) }

  const blocks = chapterBlocks()
  t.equal(blocks.length, 4, 'four command blocks')
  t.equal(blocks.filter(b => b.background).length, 1, 'one of them runs until Ctrl-C')
  let running: { child: ReturnType<typeof spawn>, out: () => string, exited: Promise<unknown[]> } | undefined
  const outputs: string[] = []
  for (const block of blocks) {
    if (block.background) {
      const child = spawn('sh', ['-c', `exec ${block.code.trim()}`], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      const exited = once(child, 'exit')
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; if (out.includes('\n')) resolve() })
        void exited.then(([code]) => reject(new Error(`exited (${String(code)}) before its first line`)))
      })
      child.stderr.setEncoding('utf8').on('data', (s: string) => { out += s })
      await ready
      running = { child, out: () => out, exited }
      continue
    }
    const child = spawn('sh', ['-e', '-c', block.code], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { out += s })
    const [code] = await once(child, 'exit') as [number | null]
    t.equal(code, 0, `${block.code.trim().split('\n')[0]!}: ${out}`)
    outputs.push(out)
    if (running !== undefined) {
      running.child.kill('SIGINT')
      const [stopped] = await running.exited as [number | null]
      t.equal(stopped, 0, `the recording proxy stops on Ctrl-C: ${running.out()}`)
      t.match(running.out(), /3 exchanges written to session\.json/)
      running = undefined
    }
  }
  t.match(outputs[0], /0 different\n0 difference\(s\)/, 'the walk, the fixture and parity: no difference from the same device')
  t.match(outputs[0], /fixture written to fixtures\/lab-kraken/)
  t.ok(existsSync(path.join(work, 'fixtures', 'lab-kraken', 'streams.json')), 'the fixture folder')
  t.match(readFileSync(path.join(work, 'parity.html'), 'utf8'), /<h1>Parity report: https:\/\/127\.0\.0\.1:\d+<\/h1>/)
  t.match(readFileSync(path.join(work, 'parity-report.md'), 'utf8'), /- exchanges compared: 3\n/, 'the last parity wrote the default Markdown report')
  t.same(readCapture(path.join(work, 'session.json')).exchanges.map(e => `${e.request.method} ${e.request.path} ${e.response?.status ?? ''}`),
    ['POST /apis/v2/login 204', 'GET /apis/v2/streams 200', 'GET /apis/v2/logout 204'], 'curl\'s three requests, recorded')
  t.match(outputs[2], /baseline written to known\.json/)
  t.ok(existsSync(path.join(work, 'session.html')))

  t.ok(proxy.cookieValues.size >= 2, 'the device set session cookies')
  for (const file of ['kraken.json', 'session.json', 'parity.html', 'parity-report.md', 'session.html', 'known.json', 'fixtures/lab-kraken/fixture.json', 'fixtures/lab-kraken/singletons.json']) {
    const text = readFileSync(path.join(work, file), 'utf8')
    t.same([PASSWORD, ...proxy.cookieValues].filter(s => text.includes(s)), [], `${file} holds no password or cookie value`)
  }
})
