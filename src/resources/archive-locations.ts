import { Type, type Static } from 'typebox'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import type { Item } from '../kernel/store.ts'
import { Name, choice, defaulted, nullable, ref } from './fields.ts'
import { invalid } from '../kernel/errors.ts'
import { refuseIfRunningUses, requireSet, settle, type Conditional } from './rules.ts'

export const ARCHIVE_LOCATION_TYPES = ['local', 'nfs'] as const

/** An absolute path on the device (or on the NFS server), without `..` [ours]. */
const AbsolutePath = (description: string) => Type.String({ minLength: 1, maxLength: 256, pattern: '^/[^\\u0000]*$', description })

/** The most a quota may be: 1 PB in megabytes. */
export const MAX_QUOTA_MB = 1_000_000_000

/**
 * Archive locations (kraken-api.md section 10, Recording [docs, 4.0]: "each recording output
 * references an archive location; several locations keep recordings apart"). The shape is ours.
 */
export const ArchiveLocationSchema = Type.Object({
  uuid: ref('UUID v4 assigned by the device; read-only'),
  name: Name('archive location'),
  type: defaulted(choice(ARCHIVE_LOCATION_TYPES, { default: 'local', description: 'local (the device\'s own disk) or nfs (an NFS export the device mounts)' })),
  path: AbsolutePath('where recordings go on the device: a folder of its disk (local), or where the NFS export is mounted (nfs); an absolute path without `..`, unique among locations'),
  nfs_server: nullable(Type.String({ format: 'hostname', maxLength: 253, description: 'IPv4 address or host name' }), 'the NFS server; required for nfs, null for local'),
  nfs_export: nullable(AbsolutePath('absolute path'), 'the exported directory on the NFS server (`/exports/video`); required for nfs, null for local'),
  quota_mb: defaulted(Type.Integer({ minimum: 1, maximum: MAX_QUOTA_MB, default: 100_000, description: 'space recordings may take here, in megabytes (10^6 bytes), at least 1; a recording stream fails when it is full' })),
  used_bytes: Type.Integer({ minimum: 0, maximum: MAX_QUOTA_MB * 1_000_000, description: 'read-only: bytes recorded here, growing live while a recording stream runs (its bitrate / 8 per second of the device clock)' })
}, { additionalProperties: false })

export type ArchiveLocation = Static<typeof ArchiveLocationSchema>

const CONDITIONALS: readonly Conditional[] = [
  { field: 'nfs_server', applies: i => i.type === 'nfs', when: i => `type is ${String(i.type)}` },
  { field: 'nfs_export', applies: i => i.type === 'nfs', when: i => `type is ${String(i.type)}` }
]

function complete (ctx: RuleContext, next: Item, previous: Item | undefined): Item {
  return settle(ctx, next, previous, CONDITIONALS)
}

function validateLocation (ctx: RuleContext, next: Item, previous: Item | undefined): void {
  const item = complete(ctx, next, previous)
  for (const field of ['path', 'nfs_export']) {
    const value = item[field]
    if (typeof value === 'string' && value.split('/').includes('..')) throw invalid(field, 'must not contain `..`')
  }
  if (item.type === 'nfs') {
    requireSet(item, 'nfs_server', 'type is nfs')
    requireSet(item, 'nfs_export', 'type is nfs')
  }
}

/** The outputs recording into a location: a running stream feeding one freezes the location [ours]. */
function refuseWhileRecording (ctx: RuleContext, location: Item): void {
  for (const output of ctx.store.lookup('outputs', 'archive_location', String(location.uuid))) {
    refuseIfRunningUses(ctx, 'outputs', `archive location '${String(location.name)}' (through output '${String(output.name)}')`, String(output.uuid))
  }
}

export const archiveLocations = defineResource({
  singular: 'archive_location',
  plural: 'archive_locations',
  label: 'archive location',
  tag: 'Recording',
  description: 'Where recording (ts_segment_archive) outputs write: a folder of the device\'s disk or an NFS export, with a quota',
  schema: ArchiveLocationSchema,
  // Storage is the device's administration, like the network settings: every role reads it [ours].
  access: { write: ['Administrator'] },
  readOnly: ['uuid', 'used_bytes'],
  summary: ['uuid', 'name', 'type', 'path', 'quota_mb', 'used_bytes'],
  unique: ['name', 'path'],
  initial: () => ({ used_bytes: 0 }),
  validate: validateLocation,
  beforeChange: refuseWhileRecording,
  toStored: (ctx, next, previous) => complete(ctx, next, previous),
  // What is recorded lives in the runtime while streams run: every response shows the live figure.
  present: (request, item) => ({ ...item, used_bytes: request.server.kraken.runtime.archiveUsedBytes(item) }),
  presentVersion: request => request.server.kraken.runtime.archiveVersion(),
  examples: {
    create: { name: 'Example NAS', type: 'nfs', path: '/mnt/nas-video', nfs_server: '10.10.0.40', nfs_export: '/exports/video', quota_mb: 2_000_000 },
    update: { quota_mb: 3_000_000 }
  }
})
