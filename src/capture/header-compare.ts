import { headerValue, headerValues, type HeaderMap } from './capture-format.ts'
import { stringFormat } from './shape.ts'

/** One way the headers of two answers differ. `cookie` differences belong to the cookie, not the endpoint. */
export interface HeaderDifference {
  kind: 'header' | 'cookie'
  /** The header (`content-type`) or the cookie and its part (`id: SameSite`, `id: value`). */
  field: string
  device: string
  emulator: string
}

/** Headers compared by value: the content type and the cache headers. */
const BY_VALUE = ['content-type', 'cache-control', 'pragma', 'expires']
/** Headers compared by presence only: their values name ids and hosts. */
const BY_PRESENCE = ['location', 'allow']
const NONE = '(none)'
/** Every header parity looks at. */
export const COMPARED_HEADERS = [...BY_VALUE, ...BY_PRESENCE, 'set-cookie']

interface Cookie { value: string, attributes: Map<string, string> }

/** The cookies a response sets, by name; attribute names lower case. */
export function parseSetCookies (headers: HeaderMap): Map<string, Cookie> {
  const out = new Map<string, Cookie>()
  for (const line of headerValues(headers, 'set-cookie')) {
    const [pair = '', ...attrs] = line.split(';')
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    const attributes = new Map<string, string>()
    for (const a of attrs) {
      const i = a.indexOf('=')
      const name = (i === -1 ? a : a.slice(0, i)).trim().toLowerCase()
      if (name !== '') attributes.set(name, i === -1 ? '' : a.slice(i + 1).trim())
    }
    out.set(pair.slice(0, eq).trim(), { value: pair.slice(eq + 1).trim(), attributes })
  }
  return out
}

/** How an attribute is compared: SameSite, Path and Domain by value; Max-Age by zero or not; the others by presence. */
function attributeView (name: string, value: string | undefined): string {
  if (value === undefined) return NONE
  if (name === 'samesite') return value.toLowerCase()
  if (name === 'path' || name === 'domain') return value
  if (name === 'max-age') return Number(value) <= 0 ? '0 (expired)' : 'positive'
  return 'present'
}

const ATTRIBUTE_NAMES: Record<string, string> = { samesite: 'SameSite', httponly: 'HttpOnly', secure: 'Secure', path: 'Path', domain: 'Domain', 'max-age': 'Max-Age', expires: 'Expires', partitioned: 'Partitioned' }

export function compareHeaders (device: HeaderMap, emulator: HeaderMap): HeaderDifference[] {
  const out: HeaderDifference[] = []
  for (const name of BY_VALUE) {
    const d = normal(headerValue(device, name))
    const e = normal(headerValue(emulator, name))
    if (d !== e) out.push({ kind: 'header', field: name, device: d, emulator: e })
  }
  for (const name of BY_PRESENCE) {
    const d = headerValue(device, name) === undefined ? NONE : 'present'
    const e = headerValue(emulator, name) === undefined ? NONE : 'present'
    if (d !== e) out.push({ kind: 'header', field: name, device: d, emulator: e })
  }
  const dc = parseSetCookies(device)
  const ec = parseSetCookies(emulator)
  for (const name of new Set([...dc.keys(), ...ec.keys()])) {
    const d = dc.get(name)
    const e = ec.get(name)
    if (d === undefined || e === undefined) {
      out.push({ kind: 'header', field: `set-cookie ${name}`, device: d === undefined ? NONE : 'set', emulator: e === undefined ? NONE : 'set' })
      continue
    }
    const df = stringFormat(d.value) || 'empty'
    const ef = stringFormat(e.value) || 'empty'
    if (df !== ef) out.push({ kind: 'cookie', field: `${name}: value`, device: df, emulator: ef })
    for (const attr of new Set([...d.attributes.keys(), ...e.attributes.keys()])) {
      const dv = attributeView(attr, d.attributes.get(attr))
      const ev = attributeView(attr, e.attributes.get(attr))
      if (dv !== ev) out.push({ kind: 'cookie', field: `${name}: ${ATTRIBUTE_NAMES[attr] ?? attr}`, device: dv, emulator: ev })
    }
  }
  return out
}

function normal (value: string | undefined): string {
  return value === undefined ? NONE : value.toLowerCase().replace(/\s+/g, '')
}
