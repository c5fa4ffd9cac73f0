// Writes test/fixtures/data-files/kraken-format-<N>.json for the current format N: a data file as
// this release writes it (the default fixture, then a few writes through the API, closed cleanly).
// Run it once when a migration makes N current (`npx tsx scripts/data-file-fixture.ts`) and commit
// the file: the release after the next format change must still open it (test/data-format.test.ts).
// An existing file is a record of what a release wrote and is never overwritten.
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.ts'
import { versionOf } from '../src/kernel/store.ts'
import { CURRENT_FORMAT } from '../src/migrations/index.ts'
import { DEFAULT_PASSWORD } from '../src/config.ts'

const target = fileURLToPath(new URL(`../test/fixtures/data-files/kraken-format-${versionOf(CURRENT_FORMAT)!}.json`, import.meta.url))
if (existsSync(target)) {
  process.stderr.write(`${target} exists already: it records what the release of that format wrote\n`)
  process.exit(1)
}
const dir = await mkdtemp(path.join(tmpdir(), 'kraken-data-file-'))
try {
  const data = path.join(dir, 'kraken.json')
  const app = await buildApp({ data, fixture: 'default', logLevel: 'silent', transitionMs: 0, rebootMs: 0 })
  const send = async (method: 'GET' | 'POST' | 'PUT', url: string, cookie: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await app.inject({ method, url, headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) })
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
    return res.body === '' ? {} : res.json()
  }
  const login = await app.inject({ method: 'POST', url: '/apis/v2/login', payload: { username: 'haiadmin', password: DEFAULT_PASSWORD } })
  const cookie = `id=${login.cookies.find(c => c.name === 'id')?.value ?? ''}`
  const version = versionOf(CURRENT_FORMAT)!
  await send('POST', '/apis/v2/inputs', cookie, { name: `Written by format ${version}`, protocol: 'ts_udp', url: 'udp://239.66.0.1:7000' })
  const metadata = (await send('GET', '/apis/v2/metadata', cookie)).metadata_list as Array<{ uuid: string }>
  // Relays of a source that a running stream uses cannot change (auto-start streams are running).
  app.kraken.runtime.stopAll()
  await send('POST', `/apis/v2/metadata/metadata-${metadata[0]!.uuid}/relays`, cookie, { address: '10.66.0.1', port: 6066 })
  const transcoders = (await send('GET', '/apis/v2/transcoders', cookie)).transcoder_list as Array<{ uuid: string }>
  await send('PUT', `/apis/v2/transcoders/transcoder-${transcoders[0]!.uuid}`, cookie, { name: `Renamed by format ${version}` })
  await app.close()
  await copyFile(data, target)
  process.stdout.write(`wrote ${target}\n`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
