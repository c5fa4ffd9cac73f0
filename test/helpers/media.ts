import type { Test } from 'tap'
import type { KrakenApp } from '../../src/app.ts'
import type { Item } from '../../src/kernel/store.ts'
import type { StreamStatus } from '../../src/runtime/stream-runtime.ts'
import { call, envelopeOf, login, makeApp } from './app.ts'

/** Helpers of the media catalog tests (streams, inputs, outputs, transcoders, metadata, relays). */

export const API = '/apis/v2'

export interface MediaApp { app: KrakenApp, cookie: string }

/** An in-memory app on a fixture (factory-fresh by default), with an Administrator session. */
export async function mediaApp (fixture = 'empty'): Promise<MediaApp> {
  const app = await makeApp({ fixture })
  await app.ready()
  // Auto-start streams of the fixture are not what rule tests are about.
  app.kraken.runtime.stopAll()
  return { app, cookie: await login(app) }
}

/** POSTs and returns the created item; throws (failing the test) on anything but 201. */
export async function create (m: MediaApp, path: string, body: Item): Promise<Item & { uuid: string }> {
  const res = await call(m.app, m.cookie, 'POST', `${API}/${path}`, body)
  if (res.statusCode !== 201) throw new Error(`POST ${path} -> ${res.statusCode} ${res.body}`)
  return res.json() as Item & { uuid: string }
}

export interface Refusal { status: 400 | 409, field: string, message: RegExp }

/**
 * Sends a request that breaks a rule; returns what a test asserts on: the status, the envelope,
 * and whether the whole store is unchanged.
 */
export async function attempt (m: MediaApp, method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  const before = m.app.kraken.store.snapshot()
  const res = await call(m.app, m.cookie, method, `${API}/${path}`, body)
  const after = m.app.kraken.store.snapshot()
  const error = res.statusCode >= 400 ? envelopeOf(res) : undefined
  return { status: res.statusCode, error, unchanged: JSON.stringify(before) === JSON.stringify(after), body: res.body }
}

export type Attempt = Awaited<ReturnType<typeof attempt>>

/** The type the error table gives each status (kraken-api.md section 4). */
const TYPE_OF: Record<number, string> = { 400: 'Validation', 409: 'Conflict' }

/** Asserts a refusal: status, error type, a detail naming the field, the message, nothing stored. */
export function assertRefused (t: Test, r: Attempt, expected: Refusal): void {
  t.equal(r.status, expected.status, `status (${r.body})`)
  t.equal(r.error?.type, TYPE_OF[expected.status], 'error type')
  t.ok(r.error?.details.some(d => d.field === expected.field), `a detail names ${expected.field} (${r.body})`)
  t.match(r.error?.message ?? '', expected.message, 'message')
  t.ok(r.unchanged, 'store unchanged')
}

/** Makes the runtime report these streams as `status` (others stay as the runtime says). */
export function pretend (app: KrakenApp, uuids: readonly string[], status: StreamStatus = 'running'): void {
  const real = app.kraken.runtime
  const mine = new Set(uuids)
  app.kraken.runtime = {
    ...real,
    state: uuid => mine.has(uuid) ? { status, sub_status: '' } : real.state(uuid),
    isActive: uuid => mine.has(uuid) ? status !== 'stopped' && status !== 'error' : real.isActive(uuid)
  }
}

/** A small kit on a fresh device: inputs of each protocol, UDP outputs, a transcoder, a KLV source. */
export async function kit (m: MediaApp) {
  const udpIn = await create(m, 'inputs', { name: 'udp in', url: 'udp://239.1.1.1:5000' })
  const rtmpIn = await create(m, 'inputs', { name: 'rtmp in', protocol: 'rtmp', url: 'rtmp://10.0.0.9/live/a' })
  const rtspIn = await create(m, 'inputs', { name: 'rtsp in', protocol: 'rtsp', url: 'rtsp://10.0.0.8/cam' })
  const out = []
  for (let i = 1; i <= 4; i++) out.push(await create(m, 'outputs', { name: `out ${i}`, url: `udp://239.2.2.${i}:5000` }))
  const rtmpOut = await create(m, 'outputs', { name: 'rtmp out', protocol: 'rtmp', url: 'rtmp://10.0.0.7/live/b' })
  const location = await create(m, 'archive_locations', { name: 'disk', path: '/data/archive' })
  const archive = await create(m, 'outputs', { name: 'archive', protocol: 'ts_segment_archive', archive_location: location.uuid })
  const transcoder = await create(m, 'transcoders', { name: 'tc' })
  const klv = await create(m, 'metadata', { name: 'klv', input_method: 'network', udp_port: 6000 })
  return { udpIn, rtmpIn, rtspIn, out, rtmpOut, location, archive, transcoder, klv }
}
