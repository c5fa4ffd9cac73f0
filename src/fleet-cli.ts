import { DEFAULT_PASSWORD, type Config } from './config.ts'
import { startFleet, type RunningFleet } from './start-fleet.ts'
import { FleetError } from './fleet/fleet-plan.ts'
import { CertificateError } from './tls/certificate.ts'
import { StoreLoadError } from './kernel/store.ts'
import { FixtureError } from './fixtures.ts'

/** The version of the JSON ready line (README "The ready line"); lines without `schema` are version 1. */
export const READY_SCHEMA = 2

/** `kraken-emulator --devices n ...` (README "A fleet"): the CLI's fleet half; exits the process on failure. */
export async function runFleetCli (config: Config, given: ReadonlySet<keyof Config>): Promise<RunningFleet> {
  let fleet: RunningFleet
  try {
    fleet = await startFleet({
      ...config,
      // In a fleet --data names a directory (one data file per device); data/fleet by default.
      data: given.has('data') ? config.data : 'data/fleet',
      journalSize: given.has('journalSize') ? config.journalSize : undefined,
      journalBytes: given.has('journalBytes') ? config.journalBytes : undefined,
      ...(config.printReady === 'json' && { logStream: process.stderr })
    })
  } catch (error) {
    if (error instanceof FleetError || error instanceof CertificateError || error instanceof StoreLoadError || error instanceof FixtureError ||
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE' || (error as NodeJS.ErrnoException).code === 'EACCES' || (error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') {
      process.stderr.write(`kraken-emulator: ${(error as Error).message.replace(/\s*[\r\n]+\s*/g, ' ').trim()}\n`)
      process.exit(2)
    }
    throw error
  }
  announceFleet(config, fleet)
  for (const warning of fleet.warnings) process.stderr.write(`kraken-emulator: WARNING: ${warning}\n`)
  return fleet
}

function announceFleet (config: Config, fleet: RunningFleet): void {
  const first = fleet.devices[0]!
  const last = fleet.devices[fleet.devices.length - 1]!
  // Generated tokens are shown once, here (one per device); a configured one is never printed.
  const generated = (device: RunningFleet['devices'][number]) => device.services.control.generated ? device.controlToken : undefined
  if (config.printReady === 'json') {
    process.stdout.write(JSON.stringify({
      schema: READY_SCHEMA,
      url: first.url,
      port: first.port,
      fingerprint: fleet.fingerprint,
      pid: process.pid,
      total: fleet.total,
      shard: fleet.shard,
      devices: fleet.devices.map(d => {
        const controlToken = generated(d)
        return { number: d.number, url: d.url, address: d.address, port: d.port, hostname: d.hostname, serial: d.serial, ...(controlToken !== undefined && { controlToken }) }
      })
    }) + '\n')
    return
  }
  const password = config.adminPassword === DEFAULT_PASSWORD ? DEFAULT_PASSWORD : '(the configured --admin-password)'
  const tokens = fleet.devices.some(d => generated(d) !== undefined) ? '  control tokens: see --print-ready json' : ''
  process.stdout.write(`kraken-emulator fleet ready: ${fleet.devices.length} devices (${first.number}..${last.number} of ${fleet.total}) at ${first.url}/apis/v2 .. ${last.url}/apis/v2 ` +
    `(list: GET ${first.url}/_emulator/fleet)  login: haiadmin / ${password}  certificate SHA-256: ${fleet.fingerprint}${tokens}\n`)
}
