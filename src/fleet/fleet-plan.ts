import { readFileSync } from 'node:fs'
import { hostname as osHostname } from 'node:os'
import path from 'node:path'
import { Type, type Static } from 'typebox'
import type { Config } from '../config.ts'
import { compile, detailsOf } from '../kernel/validator.ts'
import { generatedIdentity, type DeviceIdentity } from './device-identity.ts'

/** A fleet option or file that cannot be served; the CLI prints it on one line and exits with 2. */
export class FleetError extends Error {
  override name = 'FleetError'
}

export type Addressing =
  | { kind: 'addresses', first: string }
  | { kind: 'ports', first: number }
  | { kind: 'hostnames', pattern: string }

/** One device of the fleet, as this process serves it. */
export interface DeviceSpec {
  /** 1-based, across the whole fleet (all shards). */
  number: number
  /** Where it listens. */
  address: string
  /** Where it listens (0 until a free port is picked). */
  port: number
  /** The name its URL uses: its own host name in hostname mode, else its address. */
  urlHost: string
  identity: DeviceIdentity
  fixture: string
  passwords: { admin: string, operator: string, viewer: string }
  /** Its data file; undefined in memory. */
  data: string | undefined
  /** Its own certificate and key files (fleet file `cert`/`key`); the fleet's certificate otherwise. */
  certificate?: { certFile: string, keyFile: string }
}

export interface FleetPlan {
  /** Devices in the whole fleet. */
  total: number
  shard: { index: number, count: number }
  addressing: Addressing
  /** The devices this process serves (the shard's block). */
  devices: DeviceSpec[]
}

const Mac = Type.String({ pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' })
/** `--fleet <file.json>`: README "A fleet" documents it. */
export const FleetFile = Type.Object({
  devices: Type.Array(Type.Object({
    fixture: Type.Optional(Type.String({ minLength: 1 })),
    hostname: Type.Optional(Type.String({ format: 'hostname', minLength: 1, maxLength: 253 })),
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    macAddresses: Type.Optional(Type.Array(Mac, { minItems: 1, maxItems: 16 })),
    license: Type.Optional(Type.Object({}, { additionalProperties: true })),
    // Its own certificate (PEM files; relative paths are read from the fleet file's directory).
    cert: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    passwords: Type.Optional(Type.Object({
      admin: Type.Optional(Type.String({ minLength: 1 })),
      operator: Type.Optional(Type.String({ minLength: 1 })),
      viewer: Type.Optional(Type.String({ minLength: 1 }))
    }, { additionalProperties: false }))
  }, { additionalProperties: false }), { minItems: 1, maxItems: 100_000 })
}, { additionalProperties: false })
export type FleetFile = Static<typeof FleetFile>

export function isFleet (config: Pick<Config, 'devices' | 'fleet'>): boolean {
  return config.devices !== undefined || config.fleet !== undefined
}

/** The devices this process serves, from the fleet options (nothing is opened or bound here). */
export function planFleet (config: Config, hostName: string = osHostname()): FleetPlan {
  const file = config.fleet === undefined ? undefined : readFleetFile(config.fleet)
  const total = config.devices ?? file?.devices.length ?? 0
  const addressing = addressingOf(config)
  const shard = parseShard(config.shard, hostName)
  const size = Math.ceil(total / shard.count)
  const first = shard.index * size + 1
  const last = Math.min(total, (shard.index + 1) * size)
  if (first > last) throw new FleetError(`--shard ${shard.index}/${shard.count}: that shard of ${total} devices is empty (blocks of ${size})`)
  const seed = config.seed ?? 0
  const firstAddress = addressing.kind === 'addresses' ? ipv4ToNumber(addressing.first) : 0
  if (addressing.kind === 'addresses' && firstAddress + total - 1 > 0xffffffff) throw new FleetError(`--device-addresses ${addressing.first}: ${total} addresses run past 255.255.255.255`)
  if (addressing.kind === 'ports' && addressing.first !== 0 && addressing.first + total - 1 > 65535) throw new FleetError(`--device-ports ${addressing.first}: ${total} ports run past 65535`)
  const devices: DeviceSpec[] = []
  for (let number = first; number <= last; number++) {
    const listed = file?.devices[number - 1]
    const named = addressing.kind === 'hostnames' ? addressing.pattern.replaceAll('{i}', String(number)) : undefined
    const address = addressing.kind === 'addresses' ? numberToIpv4(firstAddress + number - 1) : config.host
    const port = addressing.kind === 'ports' ? (addressing.first === 0 ? 0 : addressing.first + number - 1) : config.port
    const generated = generatedIdentity(number, seed, listed?.hostname ?? named ?? `kraken-${number}`)
    devices.push({
      number,
      address,
      port,
      urlHost: named ?? address,
      identity: {
        hostname: generated.hostname,
        serial: listed?.serial ?? generated.serial,
        macAddresses: listed?.macAddresses ?? generated.macAddresses,
        license: { ...generated.license, ...listed?.license }
      },
      fixture: listed?.fixture ?? config.fixture,
      passwords: {
        admin: listed?.passwords?.admin ?? config.adminPassword,
        operator: listed?.passwords?.operator ?? config.operatorPassword,
        viewer: listed?.passwords?.viewer ?? config.viewerPassword
      },
      data: config.inMemory ? undefined : path.join(config.data, `device-${number}.json`),
      ...(config.fleet !== undefined && listed !== undefined && certificateOf(config.fleet, number, listed))
    })
  }
  return { total, shard, addressing, devices }
}

/** A device's own certificate files, relative to the fleet file; `cert` and `key` go together. */
function certificateOf (file: string, number: number, listed: FleetFile['devices'][number]): Pick<DeviceSpec, 'certificate'> {
  if (listed.cert === undefined && listed.key === undefined) return {}
  if (listed.cert === undefined || listed.key === undefined) throw new FleetError(`--fleet ${file}: device ${number}: ${listed.cert === undefined ? 'key' : 'cert'} given without ${listed.cert === undefined ? 'cert' : 'key'} (they go together)`)
  const dir = path.dirname(path.resolve(file))
  return { certificate: { certFile: path.resolve(dir, listed.cert), keyFile: path.resolve(dir, listed.key) } }
}

function addressingOf (config: Config): Addressing {
  const given = [
    config.deviceAddresses === undefined ? undefined : { kind: 'addresses' as const, first: config.deviceAddresses },
    config.devicePorts === undefined ? undefined : { kind: 'ports' as const, first: config.devicePorts },
    config.deviceHostnames === undefined ? undefined : { kind: 'hostnames' as const, pattern: config.deviceHostnames }
  ].filter(a => a !== undefined)
  if (given.length !== 1) throw new FleetError('a fleet needs exactly one of --device-addresses, --device-ports and --device-hostnames')
  const addressing = given[0]!
  if (addressing.kind === 'addresses') ipv4ToNumber(addressing.first)
  if (addressing.kind === 'hostnames' && !addressing.pattern.includes('{i}')) throw new FleetError(`--device-hostnames ${addressing.pattern}: the pattern needs {i} (the device number)`)
  return addressing
}

/** `<index>/<count>`, index 0-based or `ordinal` (the number ending the host name, e.g. a StatefulSet pod's). */
export function parseShard (raw: string | undefined, hostName: string): { index: number, count: number } {
  if (raw === undefined) return { index: 0, count: 1 }
  const match = /^(\d+|ordinal)\/(\d+)$/.exec(raw.trim())
  if (match === null) throw new FleetError(`--shard ${raw}: expected <index>/<count>, e.g. 0/4 or ordinal/4`)
  const count = Number(match[2])
  let index: number
  if (match[1] === 'ordinal') {
    const ordinal = /(\d+)$/.exec(hostName)
    if (ordinal === null) throw new FleetError(`--shard ${raw}: the host name ${hostName} ends in no number`)
    index = Number(ordinal[1])
  } else {
    index = Number(match[1])
  }
  if (!Number.isSafeInteger(count) || count < 1) throw new FleetError(`--shard ${raw}: the count must be at least 1`)
  if (index >= count) throw new FleetError(`--shard ${raw}: the index ${index} must be below the count ${count}`)
  return { index, count }
}

function readFleetFile (file: string): FleetFile {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new FleetError(`--fleet ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const validate = compile(FleetFile)
  if (!validate(raw)) {
    const first = detailsOf(validate.errors ?? [])[0]
    throw new FleetError(`--fleet ${file}: ${first === undefined ? 'not a fleet file' : `${first.field}: ${first.message}`}`)
  }
  return raw as FleetFile
}

function ipv4ToNumber (address: string): number {
  const parts = address.split('.')
  if (parts.length !== 4 || parts.some(p => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new FleetError(`--device-addresses ${address}: expected an IPv4 address`)
  return parts.reduce((n, p) => n * 256 + Number(p), 0)
}

function numberToIpv4 (n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.')
}
