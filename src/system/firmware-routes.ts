// Firmware upgrade (kraken-api.md section 10: Operators cannot upgrade) [shapes ours]: an
// Administrator uploads a package (firmware-package.ts's test format), watches it verify, then
// applies it: the device reboots and comes back with the package's version. The package waits in
// memory, as in a device's scratch space: a restart of the emulator or a reset forgets it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { conflict, KrakenError } from '../kernel/errors.ts'
import { errorResponses, guardedErrors, NoContent } from '../kernel/schemas.ts'
import { ADMIN_ONLY, ALL_ROLES } from '../kernel/roles.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import { FIRMWARE_FORMAT, PackageError, verifyPackage, type VerifiedPackage } from './firmware-package.ts'
import { compareVersions, withinLimit } from './versions.ts'
import { EXAMPLE_FIRMWARE_BASE64 } from './firmware-example.ts'
import { readLicense } from './license.ts'
import { readSingleton } from './singleton.ts'
import { SystemIdentity, SYSTEMINFO } from './systeminfo.ts'
import type { MaintenanceServices } from './maintenance-services.ts'

export const FIRMWARE_PATH = `${API_BASE}/system/firmware`
/** How long a package shows `verifying` on the emulator's clock before it is `ready` [ours]. */
export const VERIFY_MS = 2000

const base = { tags: ['Firmware'], security: [{ session: [] }] }

const PackageInfo = Type.Object({
  version: Type.String({ description: 'the version the package installs (its manifest\'s)' }),
  size: Type.Integer({ description: 'bytes as uploaded' }),
  sha256: Type.String({ description: 'SHA-256 of the package as uploaded' }),
  files: Type.Integer({ description: 'files the manifest lists' }),
  notes: Type.String({ description: 'the manifest\'s notes, if any' }),
  uploaded: Type.Integer({ description: 'epoch seconds' }),
  downgrade: Type.Boolean({ description: 'older than the running version: applying it needs `force`' })
}, { additionalProperties: false })

const FirmwareStatus = Type.Object({
  running_version: Type.String({ description: 'the version the device runs (systeminfo\'s `version`)' }),
  version_limit: Type.String({ description: 'the licence\'s highest allowed version' }),
  state: Type.String({ description: '`idle` (no package), `verifying` (uploaded, being checked) or `ready` (may be applied)' }),
  progress: Type.Integer({ minimum: 0, maximum: 100, description: 'percent of the current step: verifying counts up, ready is 100, idle 0' }),
  package: Type.Union([PackageInfo, Type.Null()], { description: 'the uploaded package, or null' })
}, { additionalProperties: false, description: 'The firmware upgrade and its progress' })

const UploadBody = Type.Object({
  package: Type.String({
    minLength: 1,
    pattern: '^[A-Za-z0-9+/]*={0,2}$',
    contentEncoding: 'base64',
    description: `the package file, base64: a tar (or tar.gz) with manifest.json (format ${FIRMWARE_FORMAT}, product, version, files with SHA-256); ` +
      '`kraken-emulator firmware pack --version V` builds one. The request body is limited to 1 MiB.'
  })
}, { additionalProperties: false, examples: [{ package: EXAMPLE_FIRMWARE_BASE64 }] })

const ApplyBody = Type.Object({
  force: Type.Optional(Type.Boolean({ description: 'install a package older than the running version (a downgrade)' }))
}, { additionalProperties: false, examples: [{ force: false }] })

const Applied = Type.Object({
  version: Type.String({ description: 'the version the device comes back with' }),
  previous_version: Type.String(),
  state: Type.Literal('rebooting')
}, { additionalProperties: false })

interface Uploaded extends VerifiedPackage { uploadedAt: number, readyAt: number }

export function registerFirmwareRoutes (app: FastifyInstance, services: () => MaintenanceServices): void {
  let uploaded: Uploaded | undefined
  let cancelVerify: (() => void) | undefined
  const forget = (): void => {
    cancelVerify?.()
    cancelVerify = undefined
    uploaded = undefined
  }
  services().onReset.push(forget)
  app.addHook('onClose', async () => forget())

  const runningVersion = (): string => readSingleton(services().store, SYSTEMINFO, SystemIdentity).version
  const userOf = (request: FastifyRequest): string => request.session?.username ?? '-'

  function status (): Record<string, unknown> {
    const s = services()
    const now = s.clock.now()
    const running = runningVersion()
    const verifying = uploaded !== undefined && now < uploaded.readyAt
    const progress = uploaded === undefined ? 0 : verifying ? Math.floor(100 * (now - uploaded.uploadedAt) / VERIFY_MS) : 100
    return {
      running_version: running,
      version_limit: readLicense(s).version_limit,
      state: uploaded === undefined ? 'idle' : verifying ? 'verifying' : 'ready',
      progress,
      package: uploaded === undefined
        ? null
        : {
            version: uploaded.version,
            size: uploaded.size,
            sha256: uploaded.sha256,
            files: uploaded.files,
            notes: uploaded.notes,
            uploaded: Math.floor(uploaded.uploadedAt / 1000),
            downgrade: compareVersions(uploaded.version, running) < 0
          }
    }
  }

  /** A package newer than the licence allows is refused at upload and again at apply (the licence may change in between). */
  function assertLicensed (version: string): void {
    const limit = readLicense(services()).version_limit
    if (!withinLimit(version, limit)) {
      throw conflict(`firmware ${version} is above the licence's version_limit ${limit}; install a licence that allows it first`,
        [{ field: 'version', message: `is above the licence's version_limit ${limit}` }])
    }
  }

  app.get(FIRMWARE_PATH, {
    config: { roles: ALL_ROLES },
    schema: {
      ...base, operationId: 'getFirmwareStatus', summary: 'The running version and the upgrade in progress',
      response: { 200: FirmwareStatus, ...errorResponses(...guardedErrors) }
    }
  }, async function getFirmwareStatus () {
    return status()
  })

  app.post(FIRMWARE_PATH, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'uploadFirmware', summary: 'Upload a firmware package',
      description: `The package is read and checked at once: an unreadable, truncated or corrupt package (a file not matching its SHA-256), ` +
        `one for another product or format, is refused (400); one above the licence's version_limit is refused (409). An accepted package ` +
        `replaces any earlier one and shows \`verifying\` for ${VERIFY_MS} ms of the emulator's clock, then \`ready\` (202: poll GET ${FIRMWARE_PATH}).`,
      body: UploadBody,
      response: { 202: FirmwareStatus, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function uploadFirmware (request: FastifyRequest, reply: FastifyReply) {
    const s = services()
    const text = (request.body as { package: string }).package
    let verified: VerifiedPackage
    try {
      verified = await verifyPackage(Buffer.from(text, 'base64'))
    } catch (error) {
      if (!(error instanceof PackageError)) throw error
      s.deviceLog.write('firmware', `package refused (upload by ${userOf(request)}): ${error.field} ${error.message}`)
      const what = error.field === 'package' ? 'the firmware package' : `the firmware package's ${error.field}`
      throw new KrakenError('Validation', `${what} ${error.message}`, [{ field: error.field, message: error.message }])
    }
    try {
      assertLicensed(verified.version)
    } catch (error) {
      s.deviceLog.write('firmware', `package ${verified.version} refused (upload by ${userOf(request)}): above the licence's version_limit`)
      throw error
    }
    assertSessionLive(request)
    forget()
    const now = s.clock.now()
    const entry: Uploaded = { ...verified, uploadedAt: now, readyAt: now + VERIFY_MS }
    uploaded = entry
    cancelVerify = s.clock.setTimeout(() => {
      cancelVerify = undefined
      if (uploaded === entry) services().deviceLog.write('firmware', `package ${entry.version} verified: ready to apply`)
    }, VERIFY_MS)
    s.deviceLog.write('firmware', `package ${verified.version} uploaded by ${userOf(request)} (${verified.size} bytes, sha256 ${verified.sha256}): verifying`)
    return reply.code(202).send(status())
  })

  app.delete(FIRMWARE_PATH, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'discardFirmware', summary: 'Discard the uploaded package',
      description: 'The device keeps running its version; a no-op when no package is uploaded.',
      response: { 204: NoContent, ...errorResponses(...guardedErrors) }
    }
  }, async function discardFirmware (request: FastifyRequest, reply: FastifyReply) {
    assertSessionLive(request)
    if (uploaded !== undefined) services().deviceLog.write('firmware', `package ${uploaded.version} discarded by ${userOf(request)}`)
    forget()
    return reply.code(204).send()
  })

  app.post(`${FIRMWARE_PATH}/apply`, {
    config: { roles: ADMIN_ONLY, bodyOptional: true },
    // A bare `curl -X POST .../apply` sends no body: validated as `{}` (Ajv refuses an absent body as "must be object").
    preValidation: async function defaultApplyBody (request: FastifyRequest) { request.body ??= {} },
    schema: {
      ...base, operationId: 'applyFirmware', summary: 'Install the uploaded package and reboot',
      description: 'Installs the `ready` package: every session ends, every stream stops, the API answers 503 for the reboot delay, ' +
        'then the device runs the new version (GET /apis/v2/systeminfo) and starts its auto_start streams. 409 when no package is ready, ' +
        'when the package is older than the running version and `force` is not true, or when the licence no longer allows it.',
      body: ApplyBody,
      response: { 202: Applied, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function applyFirmware (request: FastifyRequest, reply: FastifyReply) {
    const s = services()
    const force = (request.body as { force?: boolean } | undefined)?.force === true
    const current = status()
    if (uploaded === undefined) throw conflict('no firmware package is uploaded', [{ field: 'state', message: 'is idle: upload a package first' }])
    if (current.state !== 'ready') throw conflict('the firmware package is still being verified; apply it once GET /apis/v2/system/firmware shows ready', [{ field: 'state', message: `is ${String(current.state)}` }])
    const previous = runningVersion()
    const version = uploaded.version
    if (compareVersions(version, previous) < 0 && !force) {
      throw conflict(`firmware ${version} is older than the running ${previous}; send {"force": true} to downgrade`, [{ field: 'force', message: 'must be true to install an older version' }])
    }
    assertLicensed(version)
    const identity = readSingleton(s.store, SYSTEMINFO, SystemIdentity)
    assertSessionLive(request)
    // Written before the reboot: the device is unavailable until it comes back with it anyway.
    await s.store.commit([{ op: 'set', singleton: SYSTEMINFO, value: { ...identity, version } }])
    s.deviceLog.write('firmware', `upgrade from ${previous} to ${version}${force ? ' (forced)' : ''} applied by ${userOf(request)}: rebooting`)
    forget()
    s.runtime.reboot()
    return reply.code(202).send({ version, previous_version: previous, state: 'rebooting' })
  })
}
