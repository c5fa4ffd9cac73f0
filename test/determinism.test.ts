// Deterministic runs (issue 16, acceptance 2): the same script against two emulator processes
// started with --seed and --clock manual gives the same statistics, byte for byte, also for
// streams the script creates (whose uuids differ between the runs).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { clientOf, startCliJson, tempDir } from './helpers/cli.ts'
import { loginHttps, send } from './helpers/https.ts'
import { GATE_HEVC, PRESS_BYPASS } from './helpers/control.ts'
import type { Agent } from 'undici'

type Client = { url: string, agent: Agent }

async function ok (client: Client, method: 'GET' | 'POST', url: string, body?: unknown, cookie?: string): Promise<unknown> {
  const res = await send(client, method, url, { ...(body === undefined ? {} : { body }), ...(cookie === undefined ? {} : { cookie }) })
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.text}`)
  return res.text === '' ? undefined : res.json()
}

/** The script: create a stream of its own, start three, move the clock in odd steps, read everything time-dependent. */
async function script (client: Client): Promise<string> {
  const cookie = await loginHttps(client)
  const uuid = (item: unknown): string => (item as { uuid: string }).uuid
  const input = uuid(await ok(client, 'POST', '/apis/v2/inputs', { name: 'script input', protocol: 'ts_udp', url: 'udp://239.77.9.1:20009' }, cookie))
  const transcoder = uuid(await ok(client, 'POST', '/apis/v2/transcoders', { name: 'script transcoder', video_bitrate: 3000, width: 1280, height: 720 }, cookie))
  const output = uuid(await ok(client, 'POST', '/apis/v2/outputs', { name: 'script output', protocol: 'ts_udp', url: 'udp://239.78.9.1:20009' }, cookie))
  const mine = uuid(await ok(client, 'POST', '/apis/v2/streams', { name: 'script stream', mode: 'transcoder', input, transcoder, outputs: [output] }, cookie))
  for (const stream of [mine, GATE_HEVC, PRESS_BYPASS]) await ok(client, 'POST', `/apis/v2/streams/${stream}/start`, undefined, cookie)
  const samples: unknown[] = []
  for (const step of [1000, 59_137, 600_000, 3_333, 7_200_000]) {
    await ok(client, 'POST', '/_emulator/clock', { advance_ms: step })
    const sample: Record<string, unknown> = {}
    for (const [name, stream] of [['script stream', mine], ['gate', GATE_HEVC], ['press', PRESS_BYPASS]]) {
      sample[name!] = await ok(client, 'GET', `/apis/v2/streams/${stream}/statistics`, undefined, cookie)
    }
    sample.metric = await ok(client, 'GET', '/apis/v2/system/metric/snapshot', undefined, cookie)
    samples.push(sample)
    if (step === 600_000) await ok(client, 'POST', `/apis/v2/streams/${mine}/statistics/reset`, undefined, cookie)
  }
  return JSON.stringify(samples, null, 1)
}

async function seededRun (t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t, 'kraken-determinism-')
  const cli = await startCliJson(t, ['--in-memory', '--certs', dir, '--seed', '1234', '--clock', 'manual', '--transition-ms', '1000', '--log-level', 'silent', '--session-timeout', '86400'])
  const client = clientOf(cli.ready, await readFile(path.join(dir, 'cert.pem'), 'utf8'))
  try {
    return await script(client)
  } finally {
    await client.agent.close()
    await cli.stop()
  }
}

t.test('two seeded runs with the manual clock give the same statistics, byte for byte', async t => {
  const first = await seededRun(t)
  const second = await seededRun(t)
  t.ok(first.includes('"overall_rate"') && first.length > 5000, `the script read statistics (${first.length} bytes)`)
  t.ok(second === first, 'the two runs match byte for byte')
  if (second !== first) t.same(JSON.parse(second), JSON.parse(first))
})
