// Certificate pairs made by @peculiar/x509 over WebCrypto, independent of the code under test (which
// makes its own with `selfsigned`), and needing no openssl binary, so no test skips for lack of one.
import * as x509 from '@peculiar/x509'
import { webcrypto, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

export interface PairOptions {
  cn: string
  days: number
  /** DNS names and IP addresses the certificate names (default: the CN, as a DNS name). */
  sans?: readonly string[]
  /** Sign with this issuer instead of self-signing. */
  issuer?: { name: string, key: webcrypto.CryptoKey }
  /** Certify this key instead of the one generated (a CSR's). */
  publicKey?: x509.PublicKey
}

export interface Pair { cert: string, key: string, keys: webcrypto.CryptoKeyPair, fingerprint: string }

export async function makePair (options: PairOptions): Promise<Pair> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const now = Date.now()
  const sans = options.sans ?? [options.cn]
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0a01', subject: `CN=${options.cn}`, issuer: options.issuer?.name ?? `CN=${options.cn}`,
    notBefore: new Date(now - 2 * 86400_000), notAfter: new Date(now + options.days * 86400_000),
    signingAlgorithm: EC, publicKey: options.publicKey ?? keys.publicKey, signingKey: options.issuer?.key ?? keys.privateKey,
    extensions: [new x509.SubjectAlternativeNameExtension(sans.map(value => isIP(value) !== 0 ? { type: 'ip' as const, value } : { type: 'dns' as const, value }))]
  })
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY')
  const pem = cert.toString('pem')
  return { cert: pem, key, keys, fingerprint: new X509Certificate(pem).fingerprint256 }
}
