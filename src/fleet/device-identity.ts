import { hashKey, mulberry32 } from '../kernel/prng.ts'
import type { Db } from '../kernel/store.ts'

/** What tells one Kraken of a fleet from another: written into its data when it is seeded. */
export interface DeviceIdentity {
  /** The device's own host name (system/network, systeminfo). */
  hostname: string
  serial: string
  /** eth0, eth1, eth2, ... in the order of the fixture's NICs; eth0's is the licence's. */
  macAddresses: string[]
  /** Fields of the licence singleton (system_instance_uuid at least). */
  license: Record<string, unknown>
}

/**
 * The identity of device `number` (1-based, across the whole fleet) under `seed`: distinct per
 * device and the same whichever shard or process serves it, since it depends on nothing else.
 * MACs are locally administered (02:...), the serial keeps the device's format.
 */
export function generatedIdentity (number: number, seed: number, hostname: string): DeviceIdentity {
  const tag = 1000 + (hashKey(`fleet:${seed}`) % 9000)
  const seedByte = hashKey(`fleet-mac:${seed}`) & 0xff
  const mac = (nic: number): string => {
    // 32 bits: the device number and the NIC (four per device), so no two devices share one.
    const low = ((number << 2) | nic) >>> 0
    return [0x02, seedByte, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff].map(b => b.toString(16).padStart(2, '0')).join(':')
  }
  return {
    hostname,
    serial: `KR4000-${tag}-${String(number).padStart(4, '0')}`,
    macAddresses: [0, 1, 2].map(mac),
    license: { system_instance_uuid: uuidFor(`${seed}:device:${number}`) }
  }
}

/** A version-4-shaped UUID drawn from a PRNG seeded by `key`: reproducible, not a secret. */
function uuidFor (key: string): string {
  const next = mulberry32(hashKey(key))
  const bytes = Array.from({ length: 16 }, () => Math.floor(next() * 256))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.map(b => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Writes the identity into a freshly seeded Db (systeminfo, network, licence). */
export function applyIdentity (db: Db, identity: DeviceIdentity): Db {
  const singletons = db.singletons
  const systeminfo = (singletons.systeminfo ??= {})
  systeminfo.serial_number = identity.serial
  const network = (singletons.network ??= {})
  network.hostname = identity.hostname
  if (Array.isArray(network.nics)) {
    for (const [index, nic] of (network.nics as Array<Record<string, unknown>>).entries()) {
      const mac = identity.macAddresses[index]
      if (mac !== undefined) nic.macAddress = mac
    }
  }
  const license = (singletons.license ??= {})
  Object.assign(license, identity.license)
  if (identity.macAddresses[0] !== undefined && identity.license.license_mac_address === undefined) license.license_mac_address = identity.macAddresses[0]
  return db
}
