import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { ALL_ROLES } from '../kernel/roles.ts'
import type { SystemServices } from './system-services.ts'
import { readSingleton } from './singleton.ts'

export const LICENSE = 'license'

/** The features a licence may grant (kraken-api.md section 10: "KLV metadata capture and Recording"). */
export const LICENSE_FEATURES = ['Recording', 'KLV'] as const
export type LicenseFeature = typeof LICENSE_FEATURES[number]

/** The stored licence; the session counts are live (kraken-api.md section 7). */
export const StoredLicense = Type.Object({
  max_encoders: Type.Integer({ minimum: 0, default: 4, description: 'transcoding sessions the licence allows' }),
  is_license_valid: Type.Boolean({ default: true, description: 'false also once `expiration` has passed' }),
  creation_date: Type.Integer({ minimum: 0, default: 1710115200, description: 'epoch seconds' }),
  expiration: Type.Integer({ minimum: 0, default: 2025734400, description: 'epoch seconds; 0 = never expires' }),
  license_mac_address: Type.String({ default: '02:4b:52:00:00:10', description: 'the MAC address the licence is bound to (eth0\'s)' }),
  system_instance_uuid: Type.String({ format: 'uuid', default: '6f1c2b1e-4d3a-4e8b-9a57-0c2d7e5b8f41', description: 'identifies this installation' }),
  version_limit: Type.String({ default: '4.99', description: 'highest software version the licence allows' }),
  version_limit_text: Type.String({ default: 'Valid for software versions up to 4.99', description: 'version_limit for people' }),
  features: Type.Array(Type.Enum([...LICENSE_FEATURES], { type: 'string' }), { uniqueItems: true, default: [...LICENSE_FEATURES], description: 'licensed features: Recording (ts_segment_archive outputs, the recording service), KLV (KLV metadata sources in streams)' })
}, { additionalProperties: false })
export type StoredLicense = Static<typeof StoredLicense>

export const License = Type.Object({
  active_bypass_sessions: Type.Integer({ minimum: 0, description: 'running iorouter (Bypass) streams' }),
  active_transcoder_sessions: Type.Integer({ minimum: 0, description: 'running transcoding streams' }),
  ...StoredLicense.properties
}, { additionalProperties: false, description: 'The licence and the sessions in use' })

export function readLicense (s: Pick<SystemServices, 'store' | 'clock'>): StoredLicense {
  const stored = readSingleton(s.store, LICENSE, StoredLicense)
  const expired = stored.expiration !== 0 && s.clock.now() >= stored.expiration * 1000
  return { ...stored, is_license_valid: stored.is_license_valid && !expired }
}

/** The licence as `GET /apis/v2/license` shows it, with the live session counts. */
export function presentLicense (s: Pick<SystemServices, 'store' | 'clock' | 'runtime'>): Static<typeof License> {
  const counts = s.runtime.counts()
  const license = readLicense(s)
  return {
    active_bypass_sessions: counts.bypass,
    active_transcoder_sessions: counts.transcoder,
    max_encoders: license.max_encoders,
    is_license_valid: license.is_license_valid,
    creation_date: license.creation_date,
    expiration: license.expiration,
    license_mac_address: license.license_mac_address,
    system_instance_uuid: license.system_instance_uuid,
    version_limit: license.version_limit,
    version_limit_text: license.version_limit_text,
    features: license.features
  }
}

/** `GET /apis/v2/license`: every role may read it; `PUT` installs a licence file (license-upload.ts). */
export function registerLicenseRoute (app: FastifyInstance, services: () => SystemServices): void {
  app.get(`${API_BASE}/license`, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['System'], operationId: 'getLicense', summary: 'Licence and sessions in use',
      security: [{ session: [] }],
      response: { 200: License, ...errorResponses(...guardedErrors) }
    }
  }, async function getLicense () {
    return presentLicense(services())
  })
}
