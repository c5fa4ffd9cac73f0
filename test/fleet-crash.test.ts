// Crash safety of a fleet (issue 18): SIGKILL the CLI while clients write to several devices at
// once, start it again on the same data directory, and prove that every device holds every write
// it acknowledged, and none that went to another device. (test/crash.test.ts does the same for
// one device under heavier load.)
import t from 'tap'
import { Agent, request } from 'undici'
import { emulatorArgs, spawnServer, type ServerProcess } from '../bench/spawn-server.ts'
import { preparedCli } from './helpers/prepared.ts'
import path from 'node:path'

const DEVICES = 6
const WRITTEN = [2, 3, 5, 6]
const WRITERS_PER_DEVICE = 3
const ACKS_BEFORE_KILL = 120
const built = preparedCli()
const CLI = built === undefined ? { entry: 'src/cli.ts' } : { entry: built, loader: 'none' as const }

t.setTimeout(180_000)

interface FleetReady { fingerprint: string, devices: Array<{ number: number, url: string }> }

async function start (dir: string): Promise<{ server: ServerProcess, ready: FleetReady }> {
  const server = await spawnServer({
    ...CLI,
    args: [...emulatorArgs(path.join(dir, 'fleet'), path.join(dir, 'certs'), []), '--devices', String(DEVICES), '--device-ports', '0', '--password-hash', 'fast'],
    timeoutMs: 120_000
  })
  return { server, ready: server.ready as unknown as FleetReady }
}

async function login (dispatcher: Agent, url: string): Promise<string> {
  const res = await request(`${url}/apis/v2/login`, { dispatcher, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' }) })
  await res.body.text()
  const id = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(Boolean)
  if (res.statusCode !== 204 || id === undefined) throw new Error(`login on ${url} answered ${res.statusCode}`)
  return `id=${id}`
}

t.test('SIGKILL during writes on several devices loses no acknowledged write on any', async t => {
  const dir = t.testdir()
  const first = await start(dir)
  t.teardown(() => first.server.kill())
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false }, pipelining: 0 })
  t.teardown(() => dispatcher.close())
  const urlOf = (ready: FleetReady, number: number) => ready.devices.find(d => d.number === number)!.url

  const acked = new Map<number, string[]>(WRITTEN.map(n => [n, []]))
  const unexpected: string[] = []
  let acks = 0
  let killed = false
  let killing: Promise<unknown> | undefined
  async function writer (device: number, index: number, cookie: string): Promise<void> {
    for (let step = 0; !killed; step++) {
      const name = `d${device}w${index}s${step}`
      try {
        const res = await request(`${urlOf(first.ready, device)}/apis/v2/accounts`, {
          dispatcher, method: 'POST', headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ name, role: 'Viewer', password: 'Fleet-Writer-2026!' })
        })
        const text = await res.body.text()
        if (res.statusCode !== 201) { unexpected.push(`${res.statusCode} ${text}`); return }
        acked.get(device)!.push(name)
        // Killed in the same tick as an acknowledgement: a write acknowledged before it was
        // durable would be lost exactly here.
        if (++acks === ACKS_BEFORE_KILL) { killed = true; killing = first.server.kill() }
      } catch (error) {
        if (!killed) unexpected.push(`failed before the kill: ${(error as Error).message}`)
        return
      }
    }
  }
  const cookies = new Map<number, string>()
  for (const device of WRITTEN) cookies.set(device, await login(dispatcher, urlOf(first.ready, device)))
  await Promise.all(WRITTEN.flatMap(device => Array.from({ length: WRITERS_PER_DEVICE }, (_, i) => writer(device, i, cookies.get(device)!))))
  await killing
  t.same(unexpected, [], 'every write before the kill was acknowledged')
  t.ok(acks >= ACKS_BEFORE_KILL, `${acks} writes acknowledged over ${WRITTEN.length} devices before the SIGKILL`)

  const second = await start(dir)
  t.teardown(() => second.server.stop())
  for (let device = 1; device <= DEVICES; device++) {
    const url = urlOf(second.ready, device)
    const cookie = await login(dispatcher, url)
    const res = await request(`${url}/apis/v2/accounts`, { dispatcher, headers: { cookie } })
    const body = await res.body.json() as unknown
    // The list comes as the device sends it: an array, or an object holding one.
    const list = (Array.isArray(body) ? body : Object.values(body as object).find(Array.isArray)) as Array<{ name: string }> | undefined
    t.ok(list !== undefined && list.length >= 3, `device ${device} lists its accounts`)
    const names = new Set((list ?? []).map(a => a.name))
    const missing = (acked.get(device) ?? []).filter(name => !names.has(name))
    t.same(missing, [], `device ${device}: every acknowledged write is there (${acked.get(device)?.length ?? 0})`)
    const foreign = [...names].filter(name => /^d\d+w/.test(name) && !name.startsWith(`d${device}w`))
    t.same(foreign, [], `device ${device}: no write of another device`)
  }
})
