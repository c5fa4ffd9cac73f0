import { createHmac, randomBytes } from 'node:crypto'
import type { HeaderMap } from './capture-format.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const PEM = /^(-----BEGIN [A-Z0-9 ]+-----)([\s\S]*?)(-----END [A-Z0-9 ]+-----\s*)$/
const DIGITS = '0123456789'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const UPPER = LOWER.toUpperCase()
const HEX_LOWER = '0123456789abcdef'

/** Field names whose values are secrets wherever they appear, besides those the resources declare write-only. */
const SECRET_NAME = /pass(word|phrase)|secret|private|^key$|token/i

/** Headers whose whole value is a credential (the scheme of an Authorization header is kept). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-kraken-control-token'])

/**
 * Replaces secrets by stand-ins of the same format: a UUID by another UUID (same version), a
 * 40-character token by another 40 alphanumerics, a password by a string with the same letters,
 * digits and signs in the same places. The stand-in of a value is the same everywhere in one
 * recording (a keyed hash with a key made for it and never written), so the capture still shows
 * that the cookie a client sends back is the one the login issued, while no secret can be
 * recovered from it. Masking happens before anything is written.
 */
export class SecretMasker {
  private readonly key: Buffer
  private readonly fields: ReadonlySet<string>

  constructor (secretFields: Iterable<string>, key: Buffer = randomBytes(32)) {
    this.key = key
    this.fields = new Set(secretFields)
  }

  isSecretField (name: string): boolean {
    return this.fields.has(name) || SECRET_NAME.test(name)
  }

  /** The stand-in of one secret value. */
  mask (value: string): string {
    if (value === '') return value
    for (let round = 0; ; round++) {
      const out = this.maskRound(value, round)
      if (out !== value) return out
    }
  }

  private maskRound (value: string, round: number): string {
    const pem = PEM.exec(value)
    if (pem !== null) return pem[1]! + this.charwise(pem[2]!, round, false) + pem[3]!
    if (UUID.test(value)) {
      // Keep the version digit and a valid variant, so a UUID v4 stays a UUID v4.
      const hex = this.charwise(value.toLowerCase(), round, true).split('')
      hex[14] = value[14]!.toLowerCase()
      hex[19] = '89ab'[parseInt(hex[19]!, 16) % 4]!
      return hex.join('')
    }
    return this.charwise(value, round, /^[0-9a-f]+$/.test(value) && /[a-f]/.test(value))
  }

  /** Each character replaced by one of its class (digit, lower, upper; hex digits when `hex`); others kept. */
  private charwise (value: string, round: number, hex: boolean): string {
    const stream = this.stream(value, round, value.length)
    let out = ''
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!
      const byte = stream[i]!
      const alphabet = hex && HEX_LOWER.includes(c) ? HEX_LOWER : DIGITS.includes(c) ? DIGITS : LOWER.includes(c) ? LOWER : UPPER.includes(c) ? UPPER : undefined
      out += alphabet === undefined ? c : alphabet[byte % alphabet.length]!
    }
    return out
  }

  private stream (value: string, round: number, length: number): Buffer {
    const parts: Buffer[] = []
    for (let block = 0; parts.length * 32 < length; block++) {
      parts.push(createHmac('sha256', this.key).update(`${round}:${block}:`).update(value).digest())
    }
    return Buffer.concat(parts)
  }

  /** A copy of a parsed JSON body with every secret field's value (at any depth) masked. */
  maskJson (value: unknown, depth = 0): unknown {
    if (value === null || typeof value !== 'object' || depth > 64) return value
    if (Array.isArray(value)) return value.map(v => this.maskJson(v, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      if (!this.isSecretField(key) || v === null || typeof v === 'boolean') out[key] = this.maskJson(v, depth + 1)
      else if (typeof v === 'string') out[key] = this.mask(v)
      // A numeric secret (a PIN) stays a number: its digits are replaced by digits.
      else if (typeof v === 'number') out[key] = Number(this.mask(String(v)))
      else out[key] = this.maskJson(v, depth + 1)
    }
    return out
  }

  /** A body that is not JSON: masked whole when it names a secret field (a malformed login body still holds a password). */
  maskText (text: string): string {
    return SECRET_NAME.test(text) || [...this.fields].some(f => text.includes(f)) ? this.mask(text) : text
  }

  /** A raw query string with the values of secret parameters masked. */
  maskQuery (query: string): string {
    if (query === '') return query
    const params = new URLSearchParams(query)
    let secret = false
    for (const [name, value] of params) {
      if (this.isSecretField(name)) {
        params.set(name, this.mask(value))
        secret = true
      }
    }
    return secret ? params.toString() : query
  }

  /** Request or response headers: cookie values, Set-Cookie values and credentials masked; names and attributes kept. */
  maskHeaders (headers: Record<string, string | string[] | undefined>): HeaderMap {
    const out: HeaderMap = {}
    for (const [rawName, value] of Object.entries(headers)) {
      if (value === undefined) continue
      const name = rawName.toLowerCase()
      const each = (f: (v: string) => string) => Array.isArray(value) ? value.map(f) : f(value)
      if (CREDENTIAL_HEADERS.has(name)) out[name] = each(v => this.maskCredential(v))
      else if (name === 'cookie') out[name] = each(v => v.replace(/(^|;)(\s*[^=;]+=)([^;]*)/g, (_m, sep: string, pair: string, val: string) => sep + pair + this.mask(val.trim())))
      else if (name === 'set-cookie') out[name] = each(v => v.replace(/^(\s*[^=;]+=)([^;]*)/, (_m, pair: string, val: string) => pair + this.mask(val.trim())))
      else out[name] = value
    }
    return out
  }

  private maskCredential (value: string): string {
    const scheme = /^(\w+)\s+(.*)$/.exec(value)
    return scheme === null ? this.mask(value) : `${scheme[1]!} ${this.mask(scheme[2]!)}`
  }
}
