// X.509 work for the certificate endpoints: key pairs, self-signed certificates and CSRs made with
// @peculiar/x509 (over Node's WebCrypto); parsing and key checks with Node's own X509Certificate.
import { X509Certificate, createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import { invalid, KrakenError } from '../kernel/errors.ts'

type X509Lib = typeof import('@peculiar/x509')
let library: Promise<X509Lib> | undefined

/**
 * The library, loaded at the first certificate made: importing it costs about half a second of
 * every emulator start otherwise (measured on the 2-core dev box), and most emulators never make one.
 */
async function x509Lib (): Promise<X509Lib> {
  library ??= import('@peculiar/x509').then(lib => {
    // Node's WebCrypto is a complete provider; the library types it as the DOM's Crypto, which Node's is.
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0])
    return lib
  })
  return await library
}

export const DIGESTS = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' } as const
export type Digest = keyof typeof DIGESTS

/** The wizard's subject fields (kraken-api.md section 10: `/C=../ST=../L=../O=../OU=../CN=..`), in that order. */
export const SUBJECT_FIELDS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const
export type Subject = Partial<Record<typeof SUBJECT_FIELDS[number], string>>

/** [ours] RSA-2048 like a typical appliance's; a self-signed certificate is valid this long unless told. */
const MODULUS_BITS = 2048
export const DEFAULT_VALIDITY_DAYS = 365
/** Back-dated so a client whose clock is a little behind accepts a fresh certificate. */
const BACKDATE_MS = 60 * 60 * 1000

export interface Generated { key: string, cert?: string, csr?: string, sans: string[], subject: string }

function algorithm (digest: Digest) {
  return { name: 'RSASSA-PKCS1-v1_5', hash: DIGESTS[digest], publicExponent: new Uint8Array([1, 0, 1]), modulusLength: MODULUS_BITS }
}

/** The SANs of a request: the given ones, plus the CN when it is not among them (a CN alone becomes a SAN). */
export function sansOf (subject: Subject, sans: readonly string[]): string[] {
  const out = [...sans]
  if (subject.CN !== undefined && subject.CN !== '' && !out.includes(subject.CN)) out.push(subject.CN)
  return out
}

function sanExtension (x509: X509Lib, sans: readonly string[]) {
  return new x509.SubjectAlternativeNameExtension(sans.map(value => isIP(value) !== 0 ? { type: 'ip' as const, value } : { type: 'dns' as const, value }))
}

function nameOf (x509: X509Lib, subject: Subject) {
  // The library reads a plain value RFC 4514's way: a leading `#` as hex BER (which threw, a 500)
  // and `\` as an escape (which changed the value). Such values go as an explicit UTF8String, verbatim.
  const valueOf = (value: string) => /^#|\\/.test(value) ? { utf8String: value } : value
  return new x509.Name(SUBJECT_FIELDS.filter(f => subject[f] !== undefined && subject[f] !== '').map(f => ({ [f]: [valueOf(subject[f]!)] })))
}

/** A new key with a self-signed certificate, or with a CSR to have signed elsewhere. */
export async function generate (kind: 'self-signed' | 'csr', subject: Subject, sans: readonly string[], digest: Digest, validityDays: number, now: number): Promise<Generated> {
  const x509 = await x509Lib()
  const alg = algorithm(digest)
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY')
  const all = sansOf(subject, sans)
  const extensions = all.length === 0 ? [] : [sanExtension(x509, all)]
  const name = nameOf(x509, subject)
  if (kind === 'csr') {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: alg, extensions })
    return { key, csr: csr.toString('pem'), sans: all, subject: name.toString() }
  }
  const notBefore = new Date(now - BACKDATE_MS)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    name,
    notBefore,
    notAfter: new Date(now + validityDays * 24 * 60 * 60 * 1000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ...extensions
    ]
  })
  return { key, cert: cert.toString('pem'), sans: all, subject: name.toString() }
}

export interface CertificateFacts {
  subject: string
  issuer: string
  sans: string[]
  /** Epoch seconds. */
  valid_from: number
  valid_to: number
  fingerprint: string
}

/** A PEM certificate, parsed; a 400 on `field` when it is not one. */
export function parseCertificate (pem: unknown, field: string): { x509: X509Certificate, facts: CertificateFacts } {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) throw invalid(field, 'must be a PEM certificate ("-----BEGIN CERTIFICATE-----")')
  let node: X509Certificate
  try {
    node = new X509Certificate(pem)
  } catch (error) {
    throw invalid(field, `is not a valid X.509 certificate (${firstLine(error)})`)
  }
  return {
    x509: node,
    facts: {
      // Node prints one attribute a line, escaped as RFC 4514 does; the API joins them as openssl's -nameopt oneline would.
      subject: node.subject.split('\n').join(', '),
      issuer: node.issuer.split('\n').join(', '),
      // "DNS:a, IP Address:10.0.0.1": the names of the types a certificate of this emulator uses
      sans: (node.subjectAltName ?? '').split(', ').filter(n => n !== '').map(n => n.replace(/^(DNS|IP Address):/, '')),
      valid_from: Math.floor(Date.parse(node.validFrom) / 1000),
      valid_to: Math.floor(Date.parse(node.validTo) / 1000),
      fingerprint: node.fingerprint256
    }
  }
}

/** A PEM private key, parsed; a 400 on `field` when it is not one. */
export function parsePrivateKey (pem: unknown, field: string): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) throw invalid(field, 'must be a PEM private key ("-----BEGIN ... PRIVATE KEY-----")')
  if (/ENCRYPTED/.test(pem)) throw invalid(field, 'is encrypted; give an unencrypted key (openssl pkey -in FILE -out key.pem)')
  try {
    return createPrivateKey(pem)
  } catch (error) {
    throw invalid(field, `is not a valid private key (${firstLine(error)})`)
  }
}

/** Refuses a certificate whose public key is not the key's. */
export function assertKeyMatches (cert: X509Certificate, key: KeyObject, what: string): void {
  if (!cert.checkPrivateKey(key)) {
    throw new KrakenError('Validation', `the certificate does not match ${what}`, [{ field: 'certificate', message: `its public key is not the one of ${what}` }])
  }
}

function firstLine (error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
