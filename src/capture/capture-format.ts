import { readFileSync, renameSync, writeFileSync } from 'node:fs'

/** The capture format this release writes and reads (docs/capture-format.md). */
export const CAPTURE_FORMAT = 'kraken-capture/1'

export type HeaderMap = Record<string, string | string[]>

/** A body as the capture keeps it: parsed JSON, text, or base64 bytes; `omitted` over BODY_KEEP bytes. */
export interface CapturedBody {
  json?: unknown
  text?: string
  base64?: string
  /** The body's size in bytes when it was too large to keep. */
  omitted?: number
}

/** One request a client (or the walk) sent to the device and what the device answered. */
export interface Exchange {
  /** 1, 2, 3... in the order the requests were sent. */
  seq: number
  /** When the request was sent (ISO 8601, the recording machine's clock). */
  time: string
  /** From the request sent to the last byte of the answer, in ms. */
  durationMs: number
  request: {
    method: string
    path: string
    /** The raw query string without `?`, secrets masked; '' when none. */
    query: string
    headers: HeaderMap
    body?: CapturedBody
  }
  /** null when the device gave no answer (`error` says why). */
  response: { status: number, headers: HeaderMap, body?: CapturedBody } | null
  error?: string
}

export interface Capture {
  format: typeof CAPTURE_FORMAT
  /** The emulator release that wrote it. */
  recordedBy: string
  /** The device's base URL. */
  target: string
  /** `proxy` (a client talked through the recorder) or `walk` (the recorder read every GET). */
  mode: 'proxy' | 'walk'
  started: string
  exchanges: Exchange[]
}

export class CaptureError extends Error {}

/** Bodies larger than this are not kept (their size is). */
export const BODY_KEEP = 1024 * 1024

/** Reads a capture file, refusing anything that is not this format. */
export function readCapture (file: string): Capture {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new CaptureError(`capture ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const capture = raw as Partial<Capture> | null
  if (capture === null || typeof capture !== 'object' || Array.isArray(capture)) throw new CaptureError(`capture ${file}: not a JSON object`)
  if (capture.format !== CAPTURE_FORMAT) throw new CaptureError(`capture ${file}: "format" is ${JSON.stringify(capture.format)}, this release reads "${CAPTURE_FORMAT}"`)
  if (!Array.isArray(capture.exchanges)) throw new CaptureError(`capture ${file}: "exchanges" must be an array`)
  for (const [i, e] of capture.exchanges.entries()) {
    const x = e as Partial<Exchange> | null
    if (x === null || typeof x !== 'object' || typeof x.request?.method !== 'string' || typeof x.request.path !== 'string' || !x.request.path.startsWith('/') ||
      (x.response !== null && typeof x.response?.status !== 'number')) {
      throw new CaptureError(`capture ${file}: exchanges[${i}] needs request.method, request.path (starting with /) and response.status (or response: null)`)
    }
    x.request.query ??= ''
    x.request.headers ??= {}
    if (x.response !== null) x.response.headers ??= {}
  }
  return capture as Capture
}

/** Writes a file whole, so a reader never sees half of one (the recorder rewrites it after every exchange). */
export function writeFileAtomic (file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, text, { mode: 0o600 })
  renameSync(temp, file)
}

export function writeCapture (file: string, capture: Capture): void {
  writeFileAtomic(file, JSON.stringify(capture, null, 2) + '\n')
}

/** A header's values as one list (set-cookie comes as a list, others as a string). */
export function headerValues (headers: HeaderMap, name: string): string[] {
  const value = headers[name]
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

/** The first value of a header, or undefined. */
export function headerValue (headers: HeaderMap, name: string): string | undefined {
  return headerValues(headers, name)[0]
}
