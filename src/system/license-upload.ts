import type { FastifyInstance, FastifyRequest } from 'fastify'
import { API_BASE } from '../kernel/define-resource.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import { invalid } from '../kernel/errors.ts'
import { ADMIN_ONLY } from '../kernel/roles.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { LICENSE, License, StoredLicense, presentLicense } from './license.ts'
import { LicenseFile, verifyLicense, type LicenseTerms } from './license-file.ts'
import { withinLimit } from './versions.ts'
import { readNetwork } from './network-routes.ts'
import { readSingleton } from './singleton.ts'
import { SYSTEMINFO, SystemIdentity } from './systeminfo.ts'
import type { SystemServices } from './system-services.ts'

/** A licence file `kraken-emulator licence mint` made for any device: 6 sessions, Recording and KLV, never expires. */
export const EXAMPLE_LICENSE_FILE: LicenseFile = {
  format: 'kraken-emulator-licence/1',
  payload: '{"licence_id":"0d8f3c52-6a1e-4b8f-9c3d-2e7a5b1f4c90","issued":1764374400,"expiration":0,"max_encoders":6,"features":["Recording","KLV"],"version_limit":"4.99","mac_address":""}',
  signature: 'mA0OtD54xJltQukKzGPMJi5QKafg4NK5EEyNUmdiljN/pcch7lepMQmCNiOpMtaCsz0ywCAGX8hoz6BOuUDmDQ=='
}

/**
 * The stored licence a file's terms make on this device, or a 400 naming why the device refuses
 * it: bound to a MAC address none of its NICs has, or below the software version it runs.
 */
function install (s: Pick<SystemServices, 'store'>, terms: LicenseTerms): StoredLicense {
  const stored = readSingleton(s.store, LICENSE, StoredLicense)
  const version = readSingleton(s.store, SYSTEMINFO, SystemIdentity).version
  if (!withinLimit(version, terms.version_limit)) {
    throw invalid('payload.version_limit', `is ${terms.version_limit}: this device runs software ${version}, which the licence does not cover`)
  }
  const macs = readNetwork(s.store).nics.map(n => n.macAddress.toLowerCase())
  if (terms.mac_address !== '' && !macs.includes(terms.mac_address)) {
    throw invalid('payload.mac_address', `is ${terms.mac_address}, which no NIC of this device has (${macs.join(', ')}): the licence is for another device`)
  }
  return {
    ...stored,
    max_encoders: terms.max_encoders,
    is_license_valid: true,
    creation_date: terms.issued,
    expiration: terms.expiration,
    // A licence for any device is bound to the first NIC's address when installed [ours].
    license_mac_address: terms.mac_address !== '' ? terms.mac_address : (macs[0] ?? stored.license_mac_address),
    version_limit: terms.version_limit,
    version_limit_text: `Valid for software versions up to ${terms.version_limit}`,
    features: [...terms.features]
  }
}

/** `PUT /apis/v2/license`: an Administrator installs a licence file; it applies at once. */
export function registerLicenseUpload (app: FastifyInstance, services: () => SystemServices): void {
  app.put(`${API_BASE}/license`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      tags: ['System'], operationId: 'installLicense', summary: 'Install a licence file',
      description: 'The body is the licence file as `kraken-emulator licence mint` writes it (README "Licence"). ' +
        'It replaces the licence at once: `GET /apis/v2/license` shows it, running transcoding streams beyond a lower ' +
        '`max_encoders` (the last started first) and streams using a feature it no longer grants go to `error`, and ' +
        'streams in error for the licence run again when it allows them. A file that is not signed with the emulator\'s ' +
        'key or was changed after signing (tampered), a truncated one, an expired one, one bound to another device\'s MAC ' +
        'address or below the running software version is a 400 naming the reason, and nothing changes.',
      security: [{ session: [] }],
      body: { ...LicenseFile, examples: [EXAMPLE_LICENSE_FILE] },
      response: { 200: License, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function installLicense (request: FastifyRequest) {
    const s = services()
    const terms = verifyLicense(request.body as LicenseFile, s.clock.now())
    const next = install(s, terms)
    assertSessionLive(request)
    await s.store.commit([{ op: 'set', singleton: LICENSE, value: next }])
    s.runtime.enforceLicense()
    s.runtime.recover('licence')
    return presentLicense(s)
  })
}
