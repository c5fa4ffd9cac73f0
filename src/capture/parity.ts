import { mkdtempSync, rmSync } from 'node:fs'
import { METHODS } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildApp, type KrakenApp } from '../app.ts'
import { DEFAULT_PASSWORD } from '../config.ts'
import { loadOrCreateCertificate } from '../tls/certificate.ts'
import { headerValue, type Capture, type CapturedBody, type Exchange, type HeaderMap } from './capture-format.ts'
import { fixtureFromCapture, writeFixtureFolder } from './capture-fixture.ts'
import { COMPARED_HEADERS, compareHeaders, parseSetCookies } from './header-compare.ts'
import { RouteMatcher } from './known-routes.ts'
import { compareShapes, shapeOf } from './shape.ts'

export type DifferenceKind = 'status' | 'header' | 'cookie' | 'body' | 'keys' | 'type' | 'format'

/** One way the emulator answers unlike the device, listed once however many exchanges show it. */
export interface Difference {
  /** Stable across runs: what a baseline lists. */
  id: string
  kind: DifferenceKind
  /** `METHOD /template` for an endpoint's difference, `cookie <name>` for a cookie's. */
  scope: string
  field: string
  device: string
  emulator: string
  /** The capture's exchanges (seq) that show it. */
  seqs: number[]
  /** The endpoints where it shows (cookies: several). */
  endpoints: string[]
}

export interface EndpointSummary { endpoint: string, compared: number, identical: number, different: number }

export interface ParityResult {
  target: string
  compared: number
  identical: number
  different: number
  /** Exchanges not replayed: no answer from the device, or a body too large to keep. */
  skipped: number
  endpoints: EndpointSummary[]
  differences: Difference[]
  /** What the seed fixture could not hold (capture-fixture.ts). */
  unrepresented: string[]
  /** Side by side, for the HTML report: the first exchange that shows each difference. */
  samples: Map<number, { request: string, device: unknown, emulator: unknown }>
}

const CONTENT_HEADERS = ['content-type', 'accept']

/**
 * Replays a capture's requests, in order, against a fresh emulator seeded from the capture (its
 * accounts take the passwords the capture's logins used, masked as they are; session cookies and
 * the ids of objects the replay creates are mapped to the emulator's), and compares each answer
 * with the device's: status, the headers that matter, and the shape of the body (keys, types,
 * formats). Values themselves are not compared: times, uptimes and statistics always differ.
 */
export async function runParity (capture: Capture, model: KrakenApp): Promise<ParityResult> {
  const fixture = fixtureFromCapture(capture, model)
  const dir = mkdtempSync(path.join(tmpdir(), 'kraken-parity-'))
  let emulator: KrakenApp | undefined
  try {
    writeFixtureFolder(dir, fixture, `seeded from a capture of ${capture.target}`)
    const passwords = loginPasswords(capture)
    emulator = await buildApp({
      inMemory: true,
      fixture: dir,
      logLevel: 'silent',
      transitionMs: 0,
      adminPassword: passwords.get('haiadmin') ?? DEFAULT_PASSWORD,
      operatorPassword: passwords.get('operator') ?? DEFAULT_PASSWORD,
      viewerPassword: passwords.get('user') ?? DEFAULT_PASSWORD
    }, { tls: await loadOrCreateCertificate({ inMemory: true }) })
    await emulator.ready()
    return { ...await replay(capture, emulator, new RouteMatcher(model)), unrepresented: fixture.unrepresented }
  } finally {
    await emulator?.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The password each account logged in with (masked, as the capture has it): the seed gives it to the account. */
function loginPasswords (capture: Capture): Map<string, string> {
  const out = new Map<string, string>()
  for (const { request, response } of capture.exchanges) {
    const body = request.body?.json as { username?: unknown, password?: unknown } | undefined
    if (request.method === 'POST' && /\/login\/?$/.test(request.path) && response !== null && response.status >= 200 && response.status < 300 &&
      typeof body?.username === 'string' && typeof body.password === 'string') out.set(body.username, body.password)
  }
  return out
}

async function replay (capture: Capture, emulator: KrakenApp, matcher: RouteMatcher): Promise<Omit<ParityResult, 'unrepresented'>> {
  const cookies = new Map<string, string>()
  const ids = new Map<string, string>()
  const differences = new Map<string, Difference>()
  const endpoints = new Map<string, EndpointSummary>()
  const samples: ParityResult['samples'] = new Map()
  let compared = 0
  let identical = 0
  let skipped = 0
  for (const exchange of capture.exchanges) {
    const { request, response } = exchange
    if (response === null || request.body?.omitted !== undefined || response.body?.omitted !== undefined) {
      skipped++
      continue
    }
    const endpoint = `${request.method} ${matcher.template(request.method, request.path)}`
    // A method Node's HTTP parser does not know never reached the device as such: not compared.
    if (!METHODS.includes(request.method)) {
      skipped++
      continue
    }
    const answer = await emulator.inject({
      method: request.method as 'GET',
      url: mapIds(request.path, ids) + (request.query === '' ? '' : `?${mapIds(request.query, ids)}`),
      headers: requestHeaders(request.headers, cookies),
      ...(request.body === undefined ? {} : { payload: payloadOf(request.body, ids) })
    })
    const emuHeaders = answer.headers as HeaderMap
    const emuBody = bodyOf(answer.body, headerValue(emuHeaders, 'content-type'))
    learn(response.headers, emuHeaders, cookies)
    learnIds(request.method, response.body?.json, emuBody, ids)

    const found = compare(response, answer.statusCode, emuHeaders, emuBody)
    compared++
    const summary = endpoints.get(endpoint) ?? { endpoint, compared: 0, identical: 0, different: 0 }
    endpoints.set(endpoint, summary)
    summary.compared++
    if (found.length === 0) {
      identical++
      summary.identical++
      continue
    }
    summary.different++
    for (const f of found) {
      const scope = f.kind === 'cookie' ? `cookie ${f.field.split(':')[0]!}` : endpoint
      const id = `${f.kind} | ${scope} | ${f.field} | device: ${f.device} | emulator: ${f.emulator}`
      let d = differences.get(id)
      if (d === undefined) {
        d = { id, kind: f.kind, scope, field: f.field, device: f.device, emulator: f.emulator, seqs: [], endpoints: [] }
        differences.set(id, d)
        if (!samples.has(exchange.seq)) {
          samples.set(exchange.seq, { request: `${request.method} ${request.path}${request.query === '' ? '' : `?${request.query}`}`, device: { status: response.status, headers: hideCookieValues(response.headers), body: response.body?.json ?? response.body?.text }, emulator: { status: answer.statusCode, headers: hideCookieValues(emuHeaders), body: emuBody.json ?? emuBody.text } })
        }
      }
      d.seqs.push(exchange.seq)
      if (!d.endpoints.includes(endpoint)) d.endpoints.push(endpoint)
    }
  }
  return {
    target: capture.target,
    compared,
    identical,
    different: compared - identical,
    skipped,
    endpoints: [...endpoints.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
    differences: [...differences.values()].sort((a, b) => a.id.localeCompare(b.id)),
    samples
  }
}

interface Found { kind: DifferenceKind, field: string, device: string, emulator: string }

function compare (response: NonNullable<Exchange['response']>, status: number, headers: HeaderMap, body: CapturedBody): Found[] {
  if (response.status !== status) return [{ kind: 'status', field: 'status', device: String(response.status), emulator: String(status) }]
  const out: Found[] = compareHeaders(response.headers, headers)
  const device = response.body
  const dJson = device?.json !== undefined
  const eJson = body.json !== undefined
  if (dJson && eJson) {
    out.push(...compareShapes(shapeOf(device.json), shapeOf(body.json)))
  } else if (dJson !== eJson || (device === undefined) !== (body.text === undefined && body.json === undefined)) {
    const kind = (b: CapturedBody | undefined) => b === undefined || (b.json === undefined && b.text === undefined && b.base64 === undefined) ? 'none' : b.json !== undefined ? 'JSON' : 'not JSON'
    if (kind(device) !== kind(body)) out.push({ kind: 'body', field: 'body', device: kind(device), emulator: kind(body) })
  }
  return out
}

function requestHeaders (headers: HeaderMap, cookies: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of CONTENT_HEADERS) {
    const v = headerValue(headers, name)
    if (v !== undefined) out[name] = v
  }
  const cookie = headerValue(headers, 'cookie')
  if (cookie !== undefined) out.cookie = cookie.replace(/(^|;)(\s*)([^=;]+)=([^;]*)/g, (_m, sep: string, sp: string, name: string, value: string) => `${sep}${sp}${name}=${cookies.get(`${name.trim()}=${value.trim()}`) ?? value}`)
  return out
}

/** The emulator's cookie for each of the device's (masked) cookies, as the two answers of one login set them. */
function learn (device: HeaderMap, emulator: HeaderMap, cookies: Map<string, string>): void {
  const e = parseSetCookies(emulator)
  for (const [name, cookie] of parseSetCookies(device)) {
    const mine = e.get(name)
    if (mine !== undefined && cookie.value !== '') cookies.set(`${name}=${cookie.value}`, mine.value)
  }
}

/** After a create, the device's id of the new object stands for the emulator's in later requests. */
function learnIds (method: string, device: unknown, emulator: CapturedBody, ids: Map<string, string>): void {
  if (method !== 'POST' || device === null || typeof device !== 'object' || emulator.json === null || typeof emulator.json !== 'object') return
  const d = device as Record<string, unknown>
  const e = emulator.json as Record<string, unknown>
  for (const key of ['uuid', 'id']) {
    if (typeof d[key] === 'string' && typeof e[key] === 'string' && d[key] !== e[key]) ids.set(d[key], e[key])
  }
}

function mapIds (text: string, ids: Map<string, string>): string {
  let out = text
  for (const [from, to] of ids) out = out.split(from).join(to)
  return out
}

function payloadOf (body: CapturedBody, ids: Map<string, string>): string | Buffer {
  if (body.json !== undefined) return mapIds(JSON.stringify(body.json), ids)
  if (body.text !== undefined) return mapIds(body.text, ids)
  return Buffer.from(body.base64 ?? '', 'base64')
}

function bodyOf (text: string, type: string | undefined): CapturedBody {
  if (text === '') return {}
  if (type?.includes('json') === true) {
    try {
      return { json: JSON.parse(text) }
    } catch {
      return { text } // the report shows it is not JSON
    }
  }
  return { text }
}

/** The headers parity compares, as a report shows them: cookie names and attributes, no value. */
function hideCookieValues (headers: HeaderMap): HeaderMap {
  const out: HeaderMap = {}
  for (const name of COMPARED_HEADERS) if (headers[name] !== undefined) out[name] = headers[name]
  const cookies = headers['set-cookie']
  if (cookies !== undefined) out['set-cookie'] = (Array.isArray(cookies) ? cookies : [cookies]).map(c => c.replace(/^([^=]+=)[^;]*/, (_m, n: string) => `${n}…`))
  return out
}
