// Deterministic runs (issue 16, acceptance 2): the same script against two emulator processes
// started with --seed and --clock manual gives the same statistics, byte for byte, also for
// streams the script creates (whose uuids differ between the runs), and the same request journal
// once durations, generated ids and the manual clock's starting instant are normalised.
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

/**
 * The request journal with what may differ between runs replaced: durations, generated ids (each
 * distinct uuid numbered in order of appearance; session ids are masked by the log itself), the
 * Host header (each process's own port) and absolute times (the manual
 * clock starts at the real time of the start, so times are kept relative to the first request).
 */
function normalisedJournal (requests: Array<Record<string, unknown>>): string {
  const ids = new Map<string, string>()
  const first = Number(requests[0]?.at ?? 0)
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
  const normalised = requests.map(({ durationMs: _duration, time: _time, at, headers, ...rest }) => {
    // The Host header names each process's own port.
    const { host: _host, ...sameHeaders } = headers as Record<string, unknown>
    return { ...rest, headers: sameHeaders, at: Number(at) - first }
  })
  return JSON.stringify(normalised, null, 1).replace(uuid, id => {
    if (!ids.has(id)) ids.set(id, `<id-${ids.size + 1}>`)
    return ids.get(id)!
  })
}

async function seededRun (t: Parameters<typeof tempDir>[0]): Promise<{ statistics: string, journal: string }> {
  const dir = await tempDir(t, 'kraken-determinism-')
  const cli = await startCliJson(t, ['--in-memory', '--certs', dir, '--seed', '1234', '--clock', 'manual', '--transition-ms', '1000', '--log-level', 'silent', '--session-timeout', '86400'])
  const client = clientOf(cli.ready, await readFile(path.join(dir, 'cert.pem'), 'utf8'))
  try {
    const statistics = await script(client)
    const { requests } = await ok(client, 'GET', '/_emulator/requests') as { requests: Array<Record<string, unknown>> }
    return { statistics, journal: normalisedJournal(requests) }
  } finally {
    await client.agent.close()
    await cli.stop()
  }
}

t.test('two seeded runs with the manual clock give the same statistics, byte for byte, and the same journal', async t => {
  const first = await seededRun(t)
  const second = await seededRun(t)
  t.ok(first.statistics.includes('"overall_rate"') && first.statistics.length > 5000, `the script read statistics (${first.statistics.length} bytes)`)
  t.ok(second.statistics === first.statistics, 'the two runs\' statistics match byte for byte')
  if (second.statistics !== first.statistics) t.same(JSON.parse(second.statistics), JSON.parse(first.statistics))
  const entries = (JSON.parse(first.journal) as unknown[]).length
  t.ok(entries >= 20, `the journal holds the script's requests (${entries})`)
  t.ok(second.journal === first.journal, 'the two runs\' journals match once durations, ids and the starting instant are normalised')
  if (second.journal !== first.journal) t.same(JSON.parse(second.journal), JSON.parse(first.journal))
})
