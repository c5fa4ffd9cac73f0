import { resolveConfig, type Config } from './config.ts'
import { X509Certificate } from 'node:crypto'
import { isIP, type Socket } from 'node:net'
import { loadCertificateFiles, loadOrCreateCertificate, type TlsMaterial } from './tls/certificate.ts'
import type { Clock, ClockMode } from './kernel/clock.ts'
import { requestLogHandle, type RequestLogHandle } from './control/request-log-expect.ts'
import type { Services } from './services.ts'
import type { KrakenApp } from './app.ts'
import { buildFleet } from './fleet/fleet-app.ts'
import { FleetError, planFleet, type FleetPlan } from './fleet/fleet-plan.ts'
import { DEFAULT_CLOSE_GRACE_MS, emulatorClock, trackSockets, withFixtureDefaults, type EmulatorClock } from './start-emulator.ts'

/**
 * The request log of a fleet device is small by default (a thousand devices would otherwise
 * reserve 16 MiB each): 200 entries and 256 KiB per device, unless --journal-size/--journal-bytes
 * are given (README "A fleet").
 */
export const FLEET_JOURNAL = { journalSize: 200, journalBytes: 256 * 1024 }

/**
 * startEmulator's options, plus the fleet's: `devices` or `fleet`, and one of `deviceAddresses`,
 * `devicePorts` (0: each device on a free port) and `deviceHostnames`.
 */
export type FleetOptions = Omit<Partial<Config>, 'clock'> & {
  /** Each device's clock: `'real'` (default) or `'manual'`; or one Clock all devices share. */
  clock?: Clock | ClockMode
  logStream?: import('node:stream').Writable
  closeGraceMs?: number
  /** The host name the `ordinal` shard index is read from (default: os.hostname()). */
  hostName?: string
}

export interface FleetDeviceHandle extends RequestLogHandle {
  /** 1-based across the whole fleet. */
  number: number
  /** `https://<address or name>:<port>` (append /apis/v2). */
  url: string
  address: string
  port: number
  hostname: string
  serial: string
  /** The token this device's /_emulator routes need in X-Kraken-Control-Token, if any. */
  controlToken: string | undefined
  /** Its control routes: `<url>/_emulator/reset`, `/health`, `/clock`, ... */
  controlUrl: string
  /** Restores a fixture on this device only; resolves once durable. */
  reset: (fixture?: string) => Promise<void>
  clock: EmulatorClock
  /** The device's services (store, sessions, runtime). */
  services: Services
  /** SHA-256 fingerprint of the certificate it serves: its own (fleet file `cert`/`key`) or the fleet's. */
  fingerprint: string
}

export interface RunningFleet {
  devices: FleetDeviceHandle[]
  /** Devices in the whole fleet (all shards). */
  total: number
  shard: FleetPlan['shard']
  /** The certificate every device serves (PEM) and its SHA-256 fingerprint. */
  certificate: string
  fingerprint: string
  warnings: string[]
  /** The shared app (`app.kraken` is the device of the request at hand). */
  app: KrakenApp
  /** Stops every listener, lets requests finish (cut after closeGraceMs), flushes every store. */
  close: () => Promise<void>
}

/** Starts a fleet of emulated Krakens in this process (README "A fleet"). */
export async function startFleet (options: FleetOptions): Promise<RunningFleet> {
  const { clock: clockOption, logStream, closeGraceMs = DEFAULT_CLOSE_GRACE_MS, hostName, ...rest } = options
  const clock = typeof clockOption === 'string' || clockOption === undefined ? undefined : clockOption
  const partial: Partial<Config> = { ...FLEET_JOURNAL, ...withoutUndefined(rest), ...(typeof clockOption === 'string' && { clock: clockOption }) }
  const config = resolveConfig(withFixtureDefaults(partial))
  const plan = planFleet(config, hostName)
  const hasPair = config.cert !== undefined && config.cert !== ''
  const tls = await loadOrCreateCertificate({
    certFile: config.cert,
    keyFile: config.key,
    // One certificate for the fleet, naming every address and host name it serves [ours]:
    // generated at each start unless --cert/--key are given.
    inMemory: !hasPair,
    moreNames: [...new Set(plan.devices.map(d => d.urlHost))]
  })
  const deviceTls = await deviceCertificates(config, plan)
  const fleet = await buildFleet(config, plan, { tls, deviceTls, ...(logStream && { logStream }), ...(clock && { clock }) })
  const sockets = trackSockets(fleet.app.server)
  // Connections of devices with their own certificate (their own TLS server, address and port modes).
  const ownSockets = new Set<Socket>()
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const cut = setTimeout(() => { for (const socket of [...sockets, ...ownSockets]) socket.destroy() }, closeGraceMs)
      cut.unref()
      try {
        const results = await Promise.allSettled([
          fleet.closeListeners().then(() => Promise.all([...ownSockets].map(socket => new Promise(resolve => { socket.once('close', resolve) })))),
          fleet.runAs(fleet.devices[0]!.services, () => fleet.app.close())
        ])
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
        if (failed !== undefined) throw failed.reason
      } finally {
        clearTimeout(cut)
      }
    })()
    return closing
  }
  try {
    await fleet.listen()
    for (const server of fleet.servers()) {
      server.on('connection', (socket: Socket) => {
        ownSockets.add(socket)
        socket.once('close', () => ownSockets.delete(socket))
      })
    }
  } catch (error) {
    await close().catch((closeError: unknown) => { fleet.app.log.error({ err: closeError }, 'cleaning up after a failed start failed too') })
    throw error
  }
  return {
    devices: fleet.devices.map(({ spec, services, url }) => ({
      number: spec.number,
      url,
      address: spec.address,
      port: spec.port,
      hostname: spec.identity.hostname,
      serial: spec.identity.serial,
      controlToken: services.control.token,
      controlUrl: `${url}/_emulator`,
      reset: (fixture?: string) => fleet.runAs(services, () => services.reset(fixture)),
      clock: emulatorClock(() => services),
      services,
      fingerprint: (deviceTls.get(spec.number) ?? tls).fingerprint,
      ...requestLogHandle(() => services.requestLog)
    })),
    total: plan.total,
    shard: plan.shard,
    certificate: tls.cert,
    fingerprint: tls.fingerprint,
    warnings: [...new Set([...(tls.warnings ?? []), ...[...deviceTls.values()].flatMap(m => m.warnings ?? []), ...fleet.devices.flatMap(d => d.services.control.warnings)])],
    app: fleet.app,
    close
  }
}

/**
 * The certificates the fleet file gives its devices, each pair read and checked once (devices may
 * share one); a bad one stops the start with one line naming the file and the device.
 */
async function deviceCertificates (config: Config, plan: FleetPlan): Promise<Map<number, TlsMaterial>> {
  const byFiles = new Map<string, Promise<TlsMaterial>>()
  const out = new Map<number, TlsMaterial>()
  for (const device of plan.devices) {
    if (device.certificate === undefined) continue
    const { certFile, keyFile } = device.certificate
    const key = `${certFile}\n${keyFile}`
    let pair = byFiles.get(key)
    if (pair === undefined) {
      pair = loadCertificateFiles(certFile, keyFile, `--fleet ${String(config.fleet)}: device ${device.number}:`)
      byFiles.set(key, pair)
    }
    let material: TlsMaterial
    try {
      material = await pair
    } catch (error) {
      throw new FleetError((error as Error).message)
    }
    const x509 = new X509Certificate(material.cert)
    const named = isIP(device.urlHost) !== 0 ? x509.checkIP(device.urlHost) : x509.checkHost(device.urlHost)
    const warnings = named === undefined ? [`the certificate of device ${device.number} (${certFile}) does not name ${device.urlHost}; clients that verify it will reject that device`] : []
    out.set(device.number, { ...material, warnings: [...(material.warnings ?? []), ...warnings] })
  }
  return out
}

function withoutUndefined<T extends object> (value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

