import type { SecureContextOptions } from 'node:tls'
import { fingerprintOf, tlsServerOptions } from './certificate.ts'

export interface CertificatePair { cert: string, key: string }

/** What a TLS server offers to swap its certificate (Node's tls.Server and https.Server). */
interface SwappableServer { setSecureContext: (options: SecureContextOptions) => void }

/**
 * The certificate the HTTPS port serves now. It starts as the one the emulator started with
 * (generated, from certs/, or --cert/--key); an Administrator may choose another through the API,
 * and `serve` hands it to the server at once: new TLS connections get it, open ones continue
 * with the one they negotiated (Node's `server.setSecureContext`). No restart.
 */
export class ServedCertificate {
  readonly startup: CertificatePair | undefined
  /** True when --cert/--key were given: they win over a choice made through the API. */
  readonly pinned: boolean
  #current: CertificatePair | undefined
  #fingerprint: string | undefined
  #server: SwappableServer | undefined

  constructor (startup: CertificatePair | undefined, pinned: boolean) {
    this.startup = startup
    this.pinned = pinned
    this.#current = startup
    this.#fingerprint = startup === undefined ? undefined : fingerprintOf(startup.cert)
  }

  /** The server to update (none for an app that is never served over HTTPS, e.g. inject-only tests). */
  attach (server: SwappableServer | undefined): void {
    this.#server = server
  }

  /** The PEM certificate served now, and its SHA-256 fingerprint (undefined without HTTPS). */
  current (): { cert: string, fingerprint: string } | undefined {
    return this.#current === undefined || this.#fingerprint === undefined ? undefined : { cert: this.#current.cert, fingerprint: this.#fingerprint }
  }

  /** Serves this pair to every new TLS connection from now on; throws (nothing changed) if Node refuses it. */
  serve (pair: CertificatePair): void {
    const fingerprint = fingerprintOf(pair.cert)
    this.#server?.setSecureContext({ key: pair.key, cert: pair.cert, ...tlsServerOptions })
    this.#current = pair
    this.#fingerprint = fingerprint
  }
}
