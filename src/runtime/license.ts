import { conflict } from '../kernel/errors.ts'
import type { Store } from '../kernel/store.ts'

/** Transcoding sessions when the license singleton names none (kraken-api.md section 9) [ours]. */
export const DEFAULT_MAX_ENCODERS = 4

/** The licence's transcoder session limit, read live so a changed singleton applies at once. */
export function maxEncoders (store: Store): number {
  const value = store.singleton('license')?.max_encoders
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : DEFAULT_MAX_ENCODERS
}

/**
 * Refuses to start one more transcoding stream when every licensed encoder session is taken
 * (kraken-api.md section 6). Bypass (`iorouter`) streams use no encoder session [docs].
 */
export function assertFreeEncoder (store: Store, inUse: number): void {
  const max = maxEncoders(store)
  if (inUse >= max) {
    throw conflict(
      `no free transcoder session: ${inUse} of max_encoders ${max} in use; stop a transcoding stream first`,
      [{ field: 'max_encoders', message: `all ${max} licensed transcoder sessions are in use` }]
    )
  }
}
