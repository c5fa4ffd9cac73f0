import { conflict } from '../kernel/errors.ts'
import type { Item, Store } from '../kernel/store.ts'
import type { LicenseView } from './license.ts'
import { quotaBytes } from './recorder.ts'

/**
 * What a stream needs besides an encoder session before it may run (kraken-api.md section 10):
 * the licence's KLV feature when it merges a KLV metadata source, and for recording outputs the
 * Recording feature, the recording service and room in each archive location. Throws a 409 with
 * the reason, which becomes the `sub_status` of a stream that could not (re)start. `usedBytes`
 * left out skips the room check (a licence change asks only about features).
 */
export function admitStream (store: Store, license: LicenseView, stream: Item, usedBytes: ((location: Item) => number) | undefined): void {
  const features = new Set(license.features)
  const klv = (Array.isArray(stream.metadatas) ? stream.metadatas as unknown[] : [])
    .map(id => typeof id === 'string' ? store.get('metadata', id) : undefined)
    .find(source => source?.data_format === 'klv')
  if (klv !== undefined && !features.has('KLV')) {
    throw conflict(`licence: the KLV feature is not licensed (the stream uses KLV metadata source '${String(klv.name)}')`, [{ field: 'metadatas', message: 'KLV is not licensed' }])
  }
  const recording = [...(Array.isArray(stream.outputs) ? stream.outputs as unknown[] : []), stream.passthru_uuid]
    .map(id => typeof id === 'string' ? store.get('outputs', id) : undefined)
    .filter((output): output is Item => output?.protocol === 'ts_segment_archive')
  if (recording.length === 0) return
  const first = String(recording[0]!.name)
  if (!features.has('Recording')) {
    throw conflict(`licence: the Recording feature is not licensed (output '${first}' records)`, [{ field: 'outputs', message: 'Recording is not licensed' }])
  }
  const service = (store.singleton('services')?.recording as { enabled?: unknown } | undefined)?.enabled
  if (service !== true) {
    throw conflict(`recording: the recording service is disabled (output '${first}' records; enable system/services/recording)`, [{ field: 'outputs', message: 'the recording service is disabled' }])
  }
  if (usedBytes === undefined) return
  for (const output of recording) {
    const location = typeof output.archive_location === 'string' ? store.get('archive_locations', output.archive_location) : undefined
    if (location === undefined) continue
    const used = usedBytes(location)
    if (used >= quotaBytes(location)) {
      throw conflict(`recording: archive location '${String(location.name)}' is full (quota ${String(location.quota_mb)} MB)`,
        [{ field: 'outputs', message: `archive location '${String(location.name)}' is full` }])
    }
  }
}
