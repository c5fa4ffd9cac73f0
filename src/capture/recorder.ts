import https from 'node:https'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import type { IncomingHttpHeaders } from 'node:http'
import { version } from '../config.ts'
import { BODY_KEEP, CAPTURE_FORMAT, writeCapture, type Capture, type CapturedBody, type Exchange } from './capture-format.ts'
import type { SecretMasker } from './secret-masker.ts'

/** A request to send to the device, as a client sent it. */
export interface OutgoingRequest {
  method: string
  path: string
  query: string
  headers: IncomingHttpHeaders
  body: Buffer
}

/** The device's answer, unmasked (the client it is relayed to needs the real cookie). */
export interface DeviceAnswer { status: number, headers: IncomingHttpHeaders, body: Buffer }

/** Headers that belong to one connection, not to the exchange: never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'proxy-authenticate'])

export function endToEnd (headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name.toLowerCase()) && value !== undefined) out[name] = value
  return out
}

/**
 * Sends requests to the device and keeps each exchange, secrets masked, in a capture file
 * rewritten after every exchange (a recording stopped any way keeps all it saw).
 */
export class Recorder {
  readonly capture: Capture
  private readonly target: URL
  private readonly agent: https.Agent
  private seq = 0

  constructor (target: string, private readonly options: { insecure: boolean, out: string, masker: SecretMasker, mode: Capture['mode'] }) {
    this.target = new URL(target)
    if (this.target.protocol !== 'https:') throw new Error(`--target must be an https:// URL (found ${target})`)
    this.agent = new https.Agent({ keepAlive: true, rejectUnauthorized: !options.insecure })
    this.capture = { format: CAPTURE_FORMAT, recordedBy: `kraken-emulator ${version()}`, target: this.target.origin, mode: options.mode, started: new Date().toISOString(), exchanges: [] }
    writeCapture(options.out, this.capture)
  }

  async send (request: OutgoingRequest): Promise<DeviceAnswer> {
    const started = Date.now()
    const seq = ++this.seq
    const m = this.options.masker
    const exchange: Exchange = {
      seq,
      time: new Date(started).toISOString(),
      durationMs: 0,
      request: { method: request.method, path: request.path, query: m.maskQuery(request.query), headers: m.maskHeaders(request.headers), ...bodyOf(request.body, request.headers, m) },
      response: null
    }
    try {
      const answer = await this.forward(request)
      exchange.response = { status: answer.status, headers: m.maskHeaders(answer.headers), ...bodyOf(decoded(answer), answer.headers, m) }
      return answer
    } catch (error) {
      exchange.error = (error as Error).message
      throw error
    } finally {
      exchange.durationMs = Date.now() - started
      // Kept in the order sent (a client may have several requests in flight): replay follows it.
      const list = this.capture.exchanges
      let at = list.length
      while (at > 0 && list[at - 1]!.seq > seq) at--
      list.splice(at, 0, exchange)
      writeCapture(this.options.out, this.capture)
    }
  }

  private forward (request: OutgoingRequest): Promise<DeviceAnswer> {
    return new Promise((resolve, reject) => {
      const headers = { ...endToEnd(request.headers), host: this.target.host, 'content-length': String(request.body.length) }
      if (request.body.length === 0 && request.method === 'GET') delete (headers as Record<string, unknown>)['content-length']
      const req = https.request({
        protocol: 'https:',
        hostname: this.target.hostname.replace(/^\[|\]$/g, ''),
        port: this.target.port === '' ? 443 : Number(this.target.port),
        method: request.method,
        path: request.path + (request.query === '' ? '' : `?${request.query}`),
        headers,
        agent: this.agent,
        timeout: 60_000
      }, res => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error('the device did not answer within 60 s')))
      req.on('error', reject)
      req.end(request.body)
    })
  }

  close (): void {
    this.agent.destroy()
  }
}

/**
 * The body as the device meant it: nginx may compress its answers for a client that accepts it.
 * The client gets the bytes as they came; the capture keeps them readable.
 */
function decoded (answer: DeviceAnswer): Buffer {
  const encoding = String(answer.headers['content-encoding'] ?? '').trim().toLowerCase()
  if (answer.body.length === 0 || encoding === '' || encoding === 'identity') return answer.body
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(answer.body)
    if (encoding === 'deflate') return inflateSync(answer.body)
    if (encoding === 'br') return brotliDecompressSync(answer.body)
  } catch {
    return answer.body // not what it says it is: kept as bytes (base64), as the client got it
  }
  return answer.body
}

/** The body as the capture keeps it: JSON parsed (secrets masked), text, or base64. */
function bodyOf (body: Buffer, headers: IncomingHttpHeaders, masker: SecretMasker): { body?: CapturedBody } {
  if (body.length === 0) return {}
  if (body.length > BODY_KEEP) return { body: { omitted: body.length } }
  const type = String(headers['content-type'] ?? '').toLowerCase()
  const text = body.toString('utf8')
  if (type.includes('json')) {
    try {
      return { body: { json: masker.maskJson(JSON.parse(text)) } }
    } catch {
      // Not JSON after all (a device bug worth seeing): kept as text below.
    }
  }
  if (type.startsWith('text/') || type.includes('json') || type.includes('xml') || type.includes('javascript')) return { body: { text: masker.maskText(text) } }
  return { body: { base64: body.toString('base64') } }
}
