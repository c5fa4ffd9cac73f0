// TLS material for the HTTPS API port (kraken-api.md section 1, Transport).
//
// Order of precedence:
//   1. `certFile` + `keyFile` (the CLI's --cert/--key): read, parsed, checked to match.
//   2. `inMemory`: a fresh self-signed pair, nothing read from or written to disk. Its key is
//      ECDSA P-256, not RSA-2048: generating it takes ~10 ms instead of ~200-300 ms, which is most
//      of an in-process test emulator's start. Such a pair lives as long as one emulator (its
//      fingerprint changes on every start anyway), and every current TLS stack accepts P-256.
//      approximation: the persisted pair below stays RSA-2048, like a typical appliance's [ours].
//   3. `certsDir` (default ./certs): reuse cert.pem + key.pem when both exist; otherwise generate a
//      self-signed pair once and store it there, so the fingerprint stays the same on every start.
//
// The private key never appears in an error message or a warning.
import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto'
import { chmod, link, mkdir, open, rename, stat, unlink, readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'

export interface TlsMaterial {
  cert: string
  key: string
  /** SHA-256 of the DER certificate, uppercase hex pairs joined by ':' (as openssl prints it). */
  fingerprint: string
  /** True when this call generated the pair (written to certsDir, or in memory). */
  generated: boolean
  /** Absolute path of the certificate file used or written; absent for in-memory material. */
  certFile?: string
  /** Absolute path of the key file used or written; absent for in-memory material. */
  keyFile?: string
  /**
   * Things worth printing at startup that do not stop the emulator: a key readable by other users,
   * a certificate that is expired or does not cover `hostname`. One line each, never key material.
   */
  warnings?: string[]
}

export interface CertificateOptions {
  /** Where cert.pem/key.pem live or are generated. Default: `certs` under the current directory. */
  certsDir?: string
  certFile?: string
  keyFile?: string
  /** Extra SAN for a generated certificate: a DNS name, or an IP address (IPv6 may be in brackets). */
  hostname?: string
  /**
   * Generate a fresh ECDSA P-256 pair without reading or writing certsDir (tests that start many
   * emulators). Each call makes its own pair: two emulators never share a certificate unless given
   * the same certsDir or certFile/keyFile.
   */
  inMemory?: boolean
  /** More SANs for a certificate generated in memory (a fleet's addresses and names). */
  moreNames?: readonly string[]
}

export class CertificateError extends Error {
  override name = 'CertificateError'
}

/** Options to spread into every TLS server the emulator creates (Fastify `https: {...}`). */
/**
 * TLS 1.2 and 1.3 with forward-secret AEAD suites only (the common "intermediate" profile): no
 * static-RSA key exchange, no CBC, no SHA-1 MACs. TLS 1.3 suites are all AEAD and forward secret.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'
].join(':')

export const tlsServerOptions = { minVersion: 'TLSv1.2' as const, ciphers: TLS_CIPHERS }

export const CERT_FILE_NAME = 'cert.pem'
export const KEY_FILE_NAME = 'key.pem'

// [ours] Generated certificate: one place to change it.
const COMMON_NAME = 'kraken-emulator'
const BASE_DNS_NAMES = ['localhost']
const BASE_IPS = ['127.0.0.1', '::1']
const VALIDITY_DAYS = 3650
/** Back-date notBefore so a client whose clock is a little behind still accepts a fresh certificate. */
const BACKDATE_MS = 24 * 60 * 60 * 1000
/**
 * A key.pem without cert.pem younger than this may be another process mid-way through writing the
 * pair (key is linked first, cert renamed next): wait for it instead of failing at once.
 */
const HALF_PAIR_GRACE_MS = 2000
const POLL_MS = 25

export function fingerprintOf (certPem: string): string {
  try {
    return new X509Certificate(certPem).fingerprint256
  } catch (err) {
    throw new CertificateError(`not a valid X.509 certificate (${reason(err)})`)
  }
}

export async function loadOrCreateCertificate (options: CertificateOptions): Promise<TlsMaterial> {
  const host = options.hostname != null && options.hostname.trim() !== ''
    ? normalizeHostname(options.hostname)
    : undefined

  const hasCert = options.certFile != null && options.certFile !== ''
  const hasKey = options.keyFile != null && options.keyFile !== ''
  if (hasCert !== hasKey) {
    throw new CertificateError(hasCert
      ? '--cert given without --key: --cert and --key go together'
      : '--key given without --cert: --cert and --key go together')
  }
  if (hasCert && hasKey) {
    const certFile = resolve(options.certFile as string)
    const keyFile = resolve(options.keyFile as string)
    return await loadPair(certFile, keyFile, `--cert file ${certFile}`, `--key file ${keyFile}`, host)
  }

  if (options.inMemory === true) {
    const { cert, key } = await generatePair(host, 'ec', (options.moreNames ?? []).map(normalizeHostname))
    return { cert, key, fingerprint: fingerprintOf(cert), generated: true, warnings: [] }
  }

  const dir = resolve(options.certsDir ?? 'certs')
  const certFile = join(dir, CERT_FILE_NAME)
  const keyFile = join(dir, KEY_FILE_NAME)

  const keyExists = await exists(keyFile)
  let certExists = await exists(certFile)
  if (keyExists && !certExists && await isFresh(keyFile)) {
    certExists = await waitFor(certFile, HALF_PAIR_GRACE_MS)
  }
  if (certExists !== keyExists) throw halfPairError(dir, certExists ? certFile : keyFile, certExists ? keyFile : certFile)
  if (certExists && keyExists) return await loadPair(certFile, keyFile, certFile, keyFile, host)

  return await createInDir(dir, certFile, keyFile, host)
}

// ---------------------------------------------------------------------------------------------
// Loading and checking an existing pair

/** A pair from files named elsewhere (a fleet file's device entry): checked as --cert/--key are, errors naming `label`. */
export async function loadCertificateFiles (certFile: string, keyFile: string, label: string): Promise<TlsMaterial> {
  return await loadPair(resolve(certFile), resolve(keyFile), `${label} cert file ${certFile}`, `${label} key file ${keyFile}`, undefined)
}

async function loadPair (certFile: string, keyFile: string, certLabel: string, keyLabel: string, host: Host | undefined): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readText(certFile, certLabel), readText(keyFile, keyLabel)])
  const x509 = parseCertificate(cert, certLabel)
  const privateKey = parsePrivateKey(key, keyLabel)
  if (!x509.checkPrivateKey(privateKey)) {
    throw new CertificateError(`${keyLabel} does not match the certificate in ${certLabel}`)
  }
  const warnings = [
    ...certificateWarnings(x509, certLabel, host),
    ...await keyPermissionWarnings(keyFile, keyLabel)
  ]
  return { cert, key, fingerprint: x509.fingerprint256, generated: false, certFile, keyFile, warnings }
}

async function readText (file: string, label: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new CertificateError(`cannot read ${label}: ${reason(err)}`)
  }
}

function parseCertificate (pem: string, label: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CertificateError(`${label} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line; ` +
      'convert DER with `openssl x509 -inform der -in FILE -out cert.pem`)')
  }
  try {
    return new X509Certificate(pem)
  } catch (err) {
    throw new CertificateError(`${label} is not a valid X.509 certificate (${reason(err)})`)
  }
}

function parsePrivateKey (pem: string, label: string): KeyObject {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw new CertificateError(`${label} is not a PEM private key (no "-----BEGIN ... PRIVATE KEY-----" line)`)
  }
  try {
    return createPrivateKey(pem)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(pem)) {
      throw new CertificateError(`${label} is encrypted; give an unencrypted key (openssl pkey -in FILE -out key.pem)`)
    }
    throw new CertificateError(`${label} is not a valid private key (${reason(err)})`)
  }
}

function certificateWarnings (x509: X509Certificate, label: string, host: Host | undefined): string[] {
  const warnings: string[] = []
  const now = Date.now()
  const from = Date.parse(x509.validFrom)
  const to = Date.parse(x509.validTo)
  if (!Number.isNaN(to) && to < now) warnings.push(`the certificate in ${label} expired on ${x509.validTo}`)
  if (!Number.isNaN(from) && from > now) warnings.push(`the certificate in ${label} is not valid before ${x509.validFrom}`)
  if (host != null) {
    const covered = host.ip ? x509.checkIP(host.name) !== undefined : x509.checkHost(host.name) !== undefined
    if (!covered) {
      warnings.push(`the certificate in ${label} does not cover --hostname ${host.name}; ` +
        'clients that verify it will reject that name (delete cert.pem and key.pem to generate a new pair)')
    }
  }
  return warnings
}

async function keyPermissionWarnings (keyFile: string, label: string): Promise<string[]> {
  if (process.platform === 'win32') return []
  try {
    const mode = (await stat(keyFile)).mode & 0o777
    if ((mode & 0o077) !== 0) {
      return [`${label} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`]
    }
  } catch {
    // Already read successfully; a failing stat here is not worth a second error.
  }
  return []
}

// ---------------------------------------------------------------------------------------------
// Generating

interface Host { name: string, ip: boolean }

function normalizeHostname (raw: string): Host {
  let name = raw.trim().toLowerCase()
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1)
  if (isIP(name) !== 0) return { name, ip: true }
  if (name.endsWith('.')) name = name.slice(0, -1)
  const label = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?'
  if (name.length > 253 || !new RegExp(`^${label}(?:\\.${label})*$`).test(name)) {
    throw new CertificateError(`--hostname ${JSON.stringify(raw)} is neither a DNS name nor an IP address`)
  }
  return { name, ip: false }
}

/** Key types: `rsa` (2048 bits) for a stored pair, `ec` (P-256) for a throwaway in-memory one. */
type KeyType = 'rsa' | 'ec'

async function generatePair (host: Host | undefined, keyType: KeyType, more: readonly Host[] = []): Promise<{ cert: string, key: string }> {
  const dns = [...BASE_DNS_NAMES]
  const ips = [...BASE_IPS]
  for (const name of host === undefined ? more : [host, ...more]) {
    const list = name.ip ? ips : dns
    if (!list.includes(name.name)) list.push(name.name)
  }
  const notBeforeDate = new Date(Date.now() - BACKDATE_MS)
  const notAfterDate = new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 24 * 60 * 60 * 1000)
  try {
    // Loaded only to generate: the library (node-forge and friends) costs ~120 ms of every cold
    // start that reuses an existing certificate.
    const { generate } = await import('selfsigned')
    const pems = await generate([{ name: 'commonName', value: COMMON_NAME }], {
      ...(keyType === 'rsa' ? { keyType, keySize: 2048 } : { keyType, curve: 'P-256' as const }),
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        // keyEncipherment is an RSA key-transport usage; RFC 5480 does not allow it on an EC key.
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...dns.map(value => ({ type: 2 as const, value })),
            ...ips.map(ip => ({ type: 7 as const, ip }))
          ]
        }
      ]
    })
    return { cert: pems.cert, key: pems.private }
  } catch (err) {
    throw new CertificateError(`cannot generate a self-signed certificate (${reason(err)})`)
  }
}

/**
 * Writes the pair so that concurrent starts agree on one pair and none ever reads a torn file:
 * both files are written complete under temporary names; key.pem is then created exclusively
 * (hard link, which fails if it exists), and only the process that created it renames its
 * cert.pem into place. A process that loses the race waits for cert.pem and loads the winner's pair.
 */
async function createInDir (dir: string, certFile: string, keyFile: string, host: Host | undefined): Promise<TlsMaterial> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new CertificateError(`cannot create certificate directory ${dir}: ${reason(err)}`)
  }
  const { cert, key } = await generatePair(host, 'rsa')

  const tag = `${process.pid}.${randomBytes(6).toString('hex')}`
  const tmpKey = join(dir, `.${KEY_FILE_NAME}.${tag}.tmp`)
  const tmpCert = join(dir, `.${CERT_FILE_NAME}.${tag}.tmp`)
  let won = false
  try {
    await writeComplete(tmpKey, key, 0o600)
    await writeComplete(tmpCert, cert, 0o644)
    won = await createExclusive(tmpKey, keyFile, key)
    if (won) await rename(tmpCert, certFile)
  } catch (err) {
    if (err instanceof CertificateError) throw err
    throw new CertificateError(`cannot write the generated certificate to ${dir}: ${reason(err)}`)
  } finally {
    await Promise.all([unlink(tmpKey).catch(() => {}), unlink(tmpCert).catch(() => {})])
  }

  if (!won) {
    // Another process created key.pem first: use its pair once its cert.pem is in place.
    if (!await waitFor(certFile, HALF_PAIR_GRACE_MS * 5)) throw halfPairError(dir, keyFile, certFile)
    return await loadPair(certFile, keyFile, certFile, keyFile, host)
  }
  return { cert, key, fingerprint: fingerprintOf(cert), generated: true, certFile, keyFile, warnings: [] }
}

async function writeComplete (file: string, content: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode)
  try {
    await handle.writeFile(content, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  await chmod(file, mode) // the umask may have removed bits we want (cert.pem 0644)
}

/** True if `target` was created by this call, false if it already existed. */
async function createExclusive (tmp: string, target: string, content: string): Promise<boolean> {
  try {
    await link(tmp, target)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err
  }
  // Filesystems without hard links: exclusive create, then write.
  try {
    await writeComplete(target, content, 0o600)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

async function exists (file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (err) {
    // Anything but "not there" (EACCES...) counts as present, so reading it reports the real reason.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

async function isFresh (file: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs < HALF_PAIR_GRACE_MS
  } catch {
    return false
  }
}

async function waitFor (file: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await exists(file)) return true
    await new Promise(resolveWait => setTimeout(resolveWait, POLL_MS))
  }
  return await exists(file)
}

function halfPairError (dir: string, present: string, missing: string): CertificateError {
  return new CertificateError(`${dir} holds ${present} but not ${missing}: ` +
    `add the missing file, or delete ${present} to generate a new pair`)
}

/** "ENOENT: no such file or directory" from a system error, else the error's first line. */
function reason (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    const sys = /^([A-Z][A-Z0-9_]+: [^,]+)/.exec(err.message)
    if (sys?.[1] != null) return sys[1]
    const line = err.message.split('\n')[0] ?? ''
    return code != null && !line.includes(code) ? `${code}: ${line}` : line
  }
  return String(err)
}
