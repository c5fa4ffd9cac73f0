// The emulator's own licence file format (kraken-api.md section 10: "only Administrators install
// licences"; no public format exists, so this one is ours, README Fidelity "Licence file"):
//
//   {"format": "kraken-emulator-licence/1",
//    "payload": "<the terms as JSON text>",
//    "signature": "<base64 Ed25519 signature of the payload's UTF-8 bytes>"}
//
// The signature covers the payload text exactly as sent, so no canonical JSON is needed: change one
// character of the payload (or the signature) and the file is refused.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { Type, type Static } from 'typebox'
import { invalid } from '../kernel/errors.ts'
import { compile, detailsOf } from '../kernel/validator.ts'
import { LICENSE_FEATURES } from './license.ts'
import { LICENSE_PUBLIC_KEY_PEM } from './license-key.ts'

export const LICENSE_FILE_FORMAT = 'kraken-emulator-licence/1'
const MAC = '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'
export const VERSION_PATTERN = '^\\d{1,4}(\\.\\d{1,4}){0,3}$'

/** What a licence grants, as signed. */
export const LicenseTerms = Type.Object({
  licence_id: Type.String({ format: 'uuid', description: 'identifies this licence' }),
  issued: Type.Integer({ minimum: 0, description: 'epoch seconds it was minted (creation_date)' }),
  expiration: Type.Integer({ minimum: 0, description: 'epoch seconds it expires; 0 = never' }),
  max_encoders: Type.Integer({ minimum: 0, maximum: 1000, description: 'transcoding sessions' }),
  features: Type.Array(Type.Enum([...LICENSE_FEATURES], { type: 'string' }), { uniqueItems: true, description: 'Recording, KLV' }),
  version_limit: Type.String({ pattern: VERSION_PATTERN, description: 'highest software version it allows, e.g. 4.99' }),
  mac_address: Type.Union([Type.String({ pattern: MAC }), Type.Literal('')], { description: 'lower-case MAC address of the NIC it is bound to, or "" for any device' })
}, { additionalProperties: false })
export type LicenseTerms = Static<typeof LicenseTerms>

/** The request body of PUT /apis/v2/license: the licence file itself. */
export const LicenseFile = Type.Object({
  format: Type.String({ maxLength: 64, description: `${LICENSE_FILE_FORMAT}` }),
  payload: Type.String({ minLength: 1, maxLength: 4096, description: 'the terms as JSON text, exactly as signed' }),
  signature: Type.String({ minLength: 1, maxLength: 256, description: 'base64 Ed25519 signature of the payload' })
}, { additionalProperties: false, description: 'A licence file as `kraken-emulator licence mint` writes it' })
export type LicenseFile = Static<typeof LicenseFile>

const checkTerms = compile(LicenseTerms)
const PUBLIC_KEY = createPublicKey(LICENSE_PUBLIC_KEY_PEM)
const ED25519_SIGNATURE_BYTES = 64

/** Signs terms into a licence file with `privateKeyPem` (PKCS#8 Ed25519). */
export function signLicense (terms: LicenseTerms, privateKeyPem: string): LicenseFile {
  const payload = JSON.stringify(terms)
  const key: KeyObject = createPrivateKey(privateKeyPem)
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be an Ed25519 private key')
  return { format: LICENSE_FILE_FORMAT, payload, signature: sign(null, Buffer.from(payload, 'utf8'), key).toString('base64') }
}

/**
 * The terms of a licence file, or a 400 naming what is wrong with it: another format, a signature
 * cut short or that does not match (the file was changed after it was signed, or signed with
 * another key), terms this release cannot read, or an expiry before `nowMs`.
 */
export function verifyLicense (file: LicenseFile, nowMs: number): LicenseTerms {
  if (file.format !== LICENSE_FILE_FORMAT) throw invalid('format', `must be ${LICENSE_FILE_FORMAT} (this is not an emulator licence file, or one of a newer format)`)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(file.signature)) throw invalid('signature', 'is not base64: the file is damaged')
  const signature = Buffer.from(file.signature, 'base64')
  if (signature.length !== ED25519_SIGNATURE_BYTES) {
    throw invalid('signature', `is ${signature.length} bytes, not ${ED25519_SIGNATURE_BYTES}: the file is truncated or damaged`)
  }
  if (!verify(null, Buffer.from(file.payload, 'utf8'), PUBLIC_KEY, signature)) {
    throw invalid('signature', 'does not match the payload: the licence was changed after it was signed (tampered), or signed with another key')
  }
  let terms: unknown
  try {
    terms = JSON.parse(file.payload)
  } catch (error) {
    throw invalid('payload', `is not JSON (${(error as Error).message})`)
  }
  if (!checkTerms(terms)) {
    const first = detailsOf(checkTerms.errors ?? [])[0]
    throw invalid(`payload.${first?.field ?? ''}`.replace(/\.$/, ''), first?.message ?? 'does not match the licence terms')
  }
  const valid = terms as LicenseTerms
  if (valid.expiration !== 0 && valid.expiration * 1000 <= nowMs) {
    throw invalid('payload.expiration', `the licence expired on ${new Date(valid.expiration * 1000).toISOString()}`)
  }
  return valid
}
