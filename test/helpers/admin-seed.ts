import type { KrakenApp } from '../../src/app.ts'
import { generate } from '../../src/admin/certificate-material.ts'

export const SEEDED_PRESET = 'matrix.cfg'
export const SEEDED_CERTIFICATE = 'matrix'

/** A CSR awaiting its certificate, made once per process (an RSA key takes a while). */
let csr: ReturnType<typeof generate> | undefined

/**
 * What the shipped fixtures lack and the administration routes need to be aimed at: a preset (with
 * an empty configuration) and a CSR awaiting its certificate. Replaces any presets and certificates.
 */
export async function seedAdministration (app: KrakenApp): Promise<void> {
  const made = await (csr ??= generate('csr', { CN: SEEDED_CERTIFICATE }, [], 'sha256', 1, Date.now()))
  await app.kraken.store.commit([
    { op: 'set', singleton: 'presets', value: { active: null, startup: null, presets: [{ name: SEEDED_PRESET, saved: 0, configuration: {} }] } },
    { op: 'set', singleton: 'certificates', value: { served: null, certificates: [{ name: SEEDED_CERTIFICATE, type: 'csr', certificate: null, key: made.key, csr: made.csr, subject: made.subject, sans: made.sans, created: 0 }] } }
  ])
}
