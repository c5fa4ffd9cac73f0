// The emulator's firmware upgrade package [ours]: a tar archive (gzip-compressed or not) holding
// `manifest.json` and the files it lists with their SHA-256. A real Kraken package is a signed
// image of several hundred MB; this one is small enough for a test to build and upload, and
// checked the way a device checks its package: readable, complete, for this product, intact.
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gunzipSync, gzipSync } from 'node:zlib'
import tar from 'tar-stream'

export const FIRMWARE_FORMAT = 'kraken-firmware/1'
export const FIRMWARE_PRODUCT = 'Kraken'
/** Dotted numbers, 2 to 4 of them, as Kraken versions are written (4.2.1.14). */
export const VERSION_PATTERN = '^[0-9]{1,6}(\\.[0-9]{1,6}){1,3}$'
const VERSION = new RegExp(VERSION_PATTERN)
/** Unpacked, a package holds at most this much: the upload limit keeps a packed one under 1 MiB. */
export const MAX_UNPACKED_BYTES = 8 * 1024 * 1024
const MAX_ENTRIES = 64
const MANIFEST = 'manifest.json'

export interface FirmwareManifest {
  format: string
  product: string
  version: string
  /** File name -> SHA-256 (hex) of its content. */
  files: Record<string, string>
  notes?: string
}

export interface VerifiedPackage { version: string, sha256: string, size: number, files: number, notes: string }

/** Why a package is refused: the field (`package`, `manifest.version`, ...) and the reason. */
export class PackageError extends Error {
  constructor (readonly field: string, message: string) {
    super(message)
    this.name = 'PackageError'
  }
}

/** Reads and checks a package; throws a PackageError saying what is wrong with it. */
export async function verifyPackage (bytes: Buffer): Promise<VerifiedPackage> {
  const files = await unpack(bytes)
  const manifestBytes = files.get(MANIFEST)
  if (manifestBytes === undefined) throw new PackageError('package', `has no ${MANIFEST}`)
  const manifest = parseManifest(manifestBytes)
  for (const [name, expected] of Object.entries(manifest.files)) {
    const content = files.get(name)
    if (content === undefined) throw new PackageError(`manifest.files.${name}`, 'is listed but not in the package (truncated?)')
    if (sha256(content) !== expected.toLowerCase()) throw new PackageError(`manifest.files.${name}`, 'does not match its SHA-256 (corrupt)')
  }
  return { version: manifest.version, sha256: sha256(bytes), size: bytes.length, files: Object.keys(manifest.files).length, notes: manifest.notes ?? '' }
}

function parseManifest (bytes: Buffer): FirmwareManifest {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new PackageError('manifest', 'is not JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PackageError('manifest', 'is not a JSON object')
  const m = value as Record<string, unknown>
  if (m.format !== FIRMWARE_FORMAT) throw new PackageError('manifest.format', `must be ${FIRMWARE_FORMAT} (is ${JSON.stringify(m.format) ?? 'absent'})`)
  if (m.product !== FIRMWARE_PRODUCT) throw new PackageError('manifest.product', `must be ${FIRMWARE_PRODUCT}: this package is for another product`)
  if (typeof m.version !== 'string' || !VERSION.test(m.version)) throw new PackageError('manifest.version', 'must be a version such as 4.3.0.2')
  const files = m.files
  if (files === null || typeof files !== 'object' || Array.isArray(files) || Object.keys(files).length === 0) {
    throw new PackageError('manifest.files', 'must name at least one file with its SHA-256')
  }
  for (const [name, hash] of Object.entries(files)) {
    if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) throw new PackageError(`manifest.files.${name}`, 'must be a SHA-256 in hex')
  }
  if (m.notes !== undefined && typeof m.notes !== 'string') throw new PackageError('manifest.notes', 'must be a string')
  return { format: m.format, product: m.product, version: m.version, files: files as Record<string, string>, ...(typeof m.notes === 'string' && { notes: m.notes }) }
}

async function unpack (bytes: Buffer): Promise<Map<string, Buffer>> {
  let archive = bytes
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      archive = gunzipSync(bytes, { maxOutputLength: MAX_UNPACKED_BYTES })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new PackageError('package', `unpacks to more than ${MAX_UNPACKED_BYTES / 1024 / 1024} MiB`)
      throw new PackageError('package', `is not a readable gzip stream (${(error as Error).message})`)
    }
  }
  if (archive.length < 512) throw new PackageError('package', 'is not a tar archive (too short)')
  const files = new Map<string, Buffer>()
  const extract = tar.extract()
  const reading = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = []
      for await (const chunk of entry) chunks.push(chunk as Buffer)
      if (entry.header.type !== 'file') continue
      if (files.size >= MAX_ENTRIES) throw new PackageError('package', `holds more than ${MAX_ENTRIES} files`)
      files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks))
    }
  })()
  // The reader's own refusal (too many files) says more than the broken pipe it causes.
  const [piped, read] = await Promise.allSettled([pipeline(Readable.from([archive]), extract), reading])
  for (const outcome of [read, piped]) {
    if (outcome.status === 'fulfilled') continue
    const error: unknown = outcome.reason
    if (error instanceof PackageError) throw error
    throw new PackageError('package', `is not a readable tar archive (${(error as Error).message})`)
  }
  return files
}

function sha256 (bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Builds a package (tar.gz) for `version` with one payload file: what `kraken-emulator firmware
 * pack` writes and tests upload. Byte for byte the same for the same arguments.
 */
export async function packFirmware (options: { version: string, notes?: string, product?: string, payload?: Buffer }): Promise<Buffer> {
  const payload = options.payload ?? Buffer.from(`Kraken emulator test firmware ${options.version}\n`)
  const manifest: FirmwareManifest = {
    format: FIRMWARE_FORMAT,
    product: options.product ?? FIRMWARE_PRODUCT,
    version: options.version,
    files: { 'rootfs.img': sha256(payload) },
    ...(options.notes !== undefined && { notes: options.notes })
  }
  return gzipSync(await tarOf([[MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n')], ['rootfs.img', payload]]))
}

/** A plain tar of the given files (fixed dates, so the same files give the same bytes). */
export async function tarOf (entries: ReadonlyArray<readonly [string, Buffer]>): Promise<Buffer> {
  const pack = tar.pack()
  for (const [name, content] of entries) pack.entry({ name, size: content.length, mtime: new Date(0), mode: 0o644 }, content)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
