import { invalid } from '../kernel/errors.ts'

/**
 * URL shapes per protocol (kraken-api.md section 5): `udp://host:port`, `tcp://host:port`,
 * `rtsp://...`, `rtmp://...`, plus our choice for HLS (`http(s)://...`) [ours]. A segment
 * archive's url is derived from its archive location (outputs.ts).
 */
export type UrlShape =
  | { kind: 'host-port', scheme: 'udp' | 'tcp' }
  | { kind: 'uri', schemes: readonly string[] }

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const HOST_PORT = new RegExp(`^(udp|tcp)://(@?)((?:${LABEL}(?:\\.${LABEL})*)?):(\\d{1,5})$`)

export function isIpv4 (host: string): boolean {
  const parts = host.split('.')
  return parts.length === 4 && parts.every(p => /^\d{1,3}$/.test(p) && Number(p) <= 255)
}

export function isMulticast (host: string): boolean {
  if (!isIpv4(host)) return false
  const first = Number(host.split('.')[0])
  return first >= 224 && first <= 239
}

/**
 * `udp://239.1.1.1:5000` -> host and port; `@` before the host (VLC style) is accepted. A TCP URL
 * may leave the host out: `tcp://:4045` listens on every address (Haivision's own example).
 */
export function hostPort (url: string): { scheme: string, host: string, port: number } | undefined {
  const m = HOST_PORT.exec(url)
  if (m === null) return undefined
  const [, scheme, , host, port] = m as unknown as [string, string, string, string, string]
  const n = Number(port)
  if (host === '' && scheme !== 'tcp') return undefined
  // Dotted digits are an address, so each octet must be one.
  if (/^[\d.]+$/.test(host) && !isIpv4(host)) return undefined
  if (n < 1 || n > 65535) return undefined
  return { scheme, host, port: n }
}

function describe (shape: UrlShape): string {
  switch (shape.kind) {
    case 'host-port': return `${shape.scheme}://<address>:<port>${shape.scheme === 'tcp' ? ' (tcp://:<port> listens on every address)' : ''}`
    case 'uri': return shape.schemes.map(s => `${s}://<host>/...`).join(' or ')
  }
}

function matches (url: string, shape: UrlShape): boolean {
  switch (shape.kind) {
    case 'host-port': {
      const parsed = hostPort(url)
      return parsed !== undefined && parsed.scheme === shape.scheme
    }
    case 'uri': {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        return false // not a URL at all: the caller reports it
      }
      return shape.schemes.includes(parsed.protocol.slice(0, -1)) && parsed.hostname !== '' && url.startsWith(parsed.protocol + '//')
    }
  }
}

/** Throws a 400 naming `field` unless `url` has the shape the protocol needs. */
export function checkUrl (field: string, url: unknown, shape: UrlShape, protocol: string): void {
  if (typeof url !== 'string' || url === '') throw invalid(field, `is required when protocol is ${protocol} (${describe(shape)})`)
  if (!matches(url, shape)) throw invalid(field, `must be ${describe(shape)} when protocol is ${protocol}`)
}
