// Parallel test suites (issue 6): 8 emulators at once in one process, half in memory and half on
// their own data files, written to and reset concurrently. None may see another's data, session
// or certificate, none may write outside its own directory, and every port is free after close().
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { Agent, request } from 'undici'
import { startEmulator, type RunningEmulator } from '../src/index.ts'

const COUNT = 8

interface Emulator {
  index: number
  kraken: RunningEmulator
  agent: Agent
  data: string | undefined
  /** Reset half of them: two in memory, two on files. */
  resets: boolean
}

async function call (emu: Emulator, method: 'GET' | 'POST' | 'DELETE', path: string, options: { cookie?: string, body?: unknown } = {}) {
  const headers: Record<string, string> = {}
  if (options.cookie !== undefined) headers.cookie = options.cookie
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await request(emu.kraken.url + path, { method, headers, dispatcher: emu.agent, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> }
}

async function login (emu: Emulator): Promise<string> {
  const res = await call(emu, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })
  if (res.status !== 204) throw new Error(`emulator ${emu.index}: login answered ${res.status}`)
  const id = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
  return `id=${String(id)}`
}

async function inputNames (emu: Emulator, cookie: string): Promise<string[]> {
  const res = await call(emu, 'GET', '/apis/v2/inputs', { cookie })
  if (res.status !== 200) throw new Error(`emulator ${emu.index}: GET inputs answered ${res.status}`)
  return (res.json().input_list as Array<{ name: string }>).map(input => input.name).sort()
}

const own = (index: number) => `only-on-emulator-${index}`
const ownInput = (index: number) => ({ name: own(index), protocol: 'ts_udp', url: `udp://239.7.7.${index + 1}:5000` })

async function portIsFree (port: number): Promise<boolean> {
  const server = net.createServer()
  return await new Promise(resolve => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** Whether a TLS client trusting only `ca` accepts the server on `port`. */
async function trusts (ca: string, port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => { socket.end(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

t.test(`${COUNT} emulators at once: no shared state, session, file, port or certificate`, async t => {
  const root = await mkdtemp(join(tmpdir(), 'kraken-isolation-'))
  const cwd = join(root, 'cwd')
  await mkdir(cwd)
  const previous = process.cwd()
  // Anything written relative to the working directory (certs/, data/) would show up here.
  process.chdir(cwd)
  t.teardown(async () => {
    process.chdir(previous)
    await rm(root, { recursive: true, force: true })
  })

  const emulators: Emulator[] = await Promise.all(Array.from({ length: COUNT }, async (_, index) => {
    const data = index % 2 === 1 ? join(root, `emulator-${index}`, 'kraken.json') : undefined
    const kraken = await startEmulator({ ...(data !== undefined && { data }), logLevel: 'silent', transitionMs: 0 })
    return { index, kraken, agent: new Agent({ connect: { ca: kraken.certificate } }), data, resets: index % 4 < 2 }
  }))
  let closed = false
  t.teardown(async () => {
    if (!closed) await Promise.all(emulators.map(e => e.kraken.close()))
    await Promise.all(emulators.map(e => e.agent.close()))
  })
  const next = (emu: Emulator) => emulators[(emu.index + 1) % COUNT]!

  t.equal(new Set(emulators.map(e => e.kraken.port)).size, COUNT, 'a port each')
  t.equal(new Set(emulators.map(e => e.kraken.fingerprint)).size, COUNT, 'a certificate each')
  for (const emu of emulators) {
    t.equal(emu.kraken.app.kraken.store.file, emu.data, `emulator ${emu.index}: ${emu.data === undefined ? 'in memory' : 'its own data file'}`)
    t.notOk(await trusts(emu.kraken.certificate, next(emu).kraken.port), `trusting emulator ${emu.index} does not trust emulator ${next(emu).index}`)
  }

  // Concurrently: each logs in and creates an input only it should have.
  const cookies = await Promise.all(emulators.map(async emu => {
    const cookie = await login(emu)
    const res = await call(emu, 'POST', '/apis/v2/inputs', { cookie, body: ownInput(emu.index) })
    if (res.status !== 201) throw new Error(`emulator ${emu.index}: POST inputs answered ${res.status}`)
    return cookie
  }))
  const fixtureNames = (await inputNames(emulators[0]!, cookies[0]!)).filter(name => !name.startsWith('only-on-'))
  for (const emu of emulators) {
    t.same(await inputNames(emu, cookies[emu.index]!), [...fixtureNames, own(emu.index)].sort(), `emulator ${emu.index} sees its own input and no other`)
    t.equal((await call(next(emu), 'GET', '/apis/v2/session', { cookie: cookies[emu.index]! })).status, 401,
      `emulator ${emu.index}'s session means nothing to emulator ${next(emu).index}`)
  }

  // Concurrently: half are reset (alternately through the API and over HTTP) while the others write again.
  await Promise.all(emulators.map(async emu => {
    if (!emu.resets) {
      const res = await call(emu, 'POST', '/apis/v2/inputs', { cookie: cookies[emu.index]!, body: { ...ownInput(emu.index), name: `${own(emu.index)}-again`, url: `udp://239.8.8.${emu.index + 1}:5000` } })
      if (res.status !== 201) throw new Error(`emulator ${emu.index}: second POST answered ${res.status}`)
    } else if (emu.index % 2 === 0) {
      await emu.kraken.reset()
    } else {
      const res = await call(emu, 'POST', '/_emulator/reset')
      if (res.status !== 200) throw new Error(`emulator ${emu.index}: reset answered ${res.status}`)
    }
  }))
  for (const emu of emulators) {
    const cookie = emu.resets ? await login(emu) : cookies[emu.index]!
    const expected = emu.resets ? fixtureNames : [...fixtureNames, own(emu.index), `${own(emu.index)}-again`].sort()
    t.same(await inputNames(emu, cookie), expected, `emulator ${emu.index} ${emu.resets ? 'is back to the fixture' : 'kept its writes through the others\' resets'}`)
    if (!emu.resets) t.equal((await call(emu, 'GET', '/apis/v2/session', { cookie })).status, 200, `emulator ${emu.index}: its session survived the others' resets`)
  }

  // Files: only the data-file emulators wrote, each in its own directory.
  t.same(await readdir(cwd), [], 'nothing written to the working directory')
  t.same((await readdir(root)).sort(), ['cwd', ...emulators.filter(e => e.data !== undefined).map(e => `emulator-${e.index}`)].sort(), 'one directory per data-file emulator, nothing else')

  const ports = emulators.map(e => e.kraken.port)
  await Promise.all(emulators.map(e => e.kraken.close()))
  closed = true
  for (const [index, port] of ports.entries()) t.ok(await portIsFree(port), `emulator ${index}'s port ${port} is free again`)
  for (const emu of emulators.filter(e => e.data !== undefined)) t.notOk(existsSync(`${emu.data!}.lock`), `emulator ${emu.index}'s lock is released`)

  // Each data file holds exactly its own emulator's state.
  const reopened = await Promise.all(emulators.filter(e => e.data !== undefined).map(async emu => {
    const kraken = await startEmulator({ data: emu.data!, logLevel: 'silent' })
    return { ...emu, kraken, agent: new Agent({ connect: { ca: kraken.certificate } }) }
  }))
  t.teardown(async () => {
    await Promise.all(reopened.map(e => e.kraken.close()))
    await Promise.all(reopened.map(e => e.agent.close()))
  })
  for (const emu of reopened) {
    const expected = emu.resets ? fixtureNames : [...fixtureNames, own(emu.index), `${own(emu.index)}-again`].sort()
    t.same(await inputNames(emu, await login(emu)), expected, `emulator ${emu.index}'s data file holds its own state only`)
  }
})
