import { conflict } from '../kernel/errors.ts'

/** What the runtime needs of the licence; `readLicense` (src/system/license.ts) provides it. */
export interface LicenseView { max_encoders: number, is_license_valid: boolean, features: readonly string[] }

/**
 * Refuses to start one more transcoding stream when every licensed encoder session is taken, or
 * when the licence is not valid (expired) (kraken-api.md section 6). Bypass (`iorouter`) streams
 * use no encoder session [docs].
 */
export function assertFreeEncoder (license: LicenseView, inUse: number): void {
  if (!license.is_license_valid) {
    throw conflict('the licence is not valid (expired?): transcoding streams cannot start', [{ field: 'is_license_valid', message: 'is false' }])
  }
  const max = license.max_encoders
  if (inUse >= max) {
    throw conflict(
      `no free transcoder session: ${inUse} of max_encoders ${max} in use; stop a transcoding stream first`,
      [{ field: 'max_encoders', message: `all ${max} licensed transcoder sessions are in use` }]
    )
  }
}
