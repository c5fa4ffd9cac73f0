import { Type, type TSchema } from 'typebox'

/**
 * Schema parts the media resources share. Every field carries a description, its range and a
 * default, so /apidoc documents it and every key exists on every item after a create.
 */

/** A closed set of strings. `enum` (not a union of literals) so a bad value gets the message
 *  "must be one of ..." and OpenAPI shows the list. */
export function choice<const V extends string> (values: readonly [V, ...V[]], options: { description: string, default?: V }) {
  return Type.Enum([...values], { type: 'string', ...options })
}

/** A field that may be null; null is its default. */
export function nullable<T extends TSchema> (schema: T, description: string) {
  return Type.Optional(Type.Union([schema, Type.Null()], { default: null, description }))
}

/** A field with a default, so the key exists on every item (kraken-api.md section 5). */
export function defaulted<T extends TSchema> (schema: T) {
  return Type.Optional(schema)
}

export const Name = (what: string, extra = '') => Type.String({ minLength: 1, maxLength: 64, description: `name of the ${what}, 1-64 characters, unique among ${what}s${extra}` })

export const Description = defaulted(Type.String({ maxLength: 256, default: '', description: 'free text, up to 256 characters' }))

/** The uuid of another object (kraken-api.md section 3: ids are UUID v4 strings). */
export const ref = (description: string) => Type.String({ format: 'uuid', description })

export const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description })

export const Ipv4 = (description: string) => Type.String({ format: 'ipv4', description })

/** A Linux interface name (IFNAMSIZ is 16 including the terminator). */
export const NIC_PATTERN = '^[A-Za-z0-9._-]{1,15}$'

/** URLs are bounded so a name derived from one stays reasonable. */
export const Url = (description: string) => defaulted(Type.String({ maxLength: 256, default: '', description }))

export const Ttl = defaulted(Type.Integer({ minimum: 1, maximum: 255, default: 64, description: 'IP time to live of sent packets, 1-255' }))
export const Tos = defaulted(Type.Integer({ minimum: 0, maximum: 255, default: 184, description: 'IP type of service byte of sent packets, 0-255 (184 = DSCP EF)' }))

export const SRT_MODES = ['caller', 'listener', 'rendezvous'] as const
export const SRT_ENCRYPTIONS = ['none', 'aes128', 'aes256'] as const

/** What a `ts_srt` item gets when a SRT field is null [ours for mode; docs for latency]. */
export const SRT_DEFAULTS = { srt_mode: 'listener', srt_latency: 125, srt_encryption: 'none' } as const

/** The SRT block of inputs and outputs (kraken-api.md section 5). Null unless protocol is ts_srt. */
export function srtFields () {
  return {
    srt_mode: nullable(choice(SRT_MODES, { description: 'caller, listener or rendezvous' }),
      'SRT connection mode; ts_srt only (null otherwise); listener when null on a ts_srt item'),
    srt_address: nullable(Type.String({ format: 'hostname', maxLength: 253, description: 'IPv4 address or host name' }),
      'SRT peer address (caller, rendezvous: required) or local bind address (listener: null = every interface); ts_srt only'),
    srt_port: nullable(Port('UDP port, 1-65535'), 'SRT port: the peer\'s (caller) or the local one (listener, rendezvous); required for ts_srt, null otherwise'),
    srt_latency: nullable(Type.Integer({ minimum: 20, maximum: 8000, description: 'milliseconds, 20-8000' }),
      'SRT latency in ms, 20-8000; 125 when null on a ts_srt item; null for other protocols'),
    srt_encryption: nullable(choice(SRT_ENCRYPTIONS, { description: 'none, aes128 or aes256' }),
      'SRT encryption; none when null on a ts_srt item; null for other protocols'),
    srt_passphrase: nullable(Type.String({ minLength: 10, maxLength: 79, description: '10-79 characters' }),
      'SRT passphrase, 10-79 characters; required when srt_encryption is aes128 or aes256; write-only: never returned')
  }
}
