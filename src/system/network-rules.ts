import { invalid } from '../kernel/errors.ts'
import type { Network, Nic } from './network-schema.ts'
import { hostAddressProblem, prefixLength, sameSubnet } from './ipv4.ts'

/**
 * Merges a PUT body over the stored network. NICs are hardware: they are matched by name and
 * cannot be added or removed [ours]; read-only NIC fields (macAddress, speed) are ignored.
 */
export function mergeNetwork (stored: Network, patch: Record<string, unknown>): { network: Network, fieldOf: NicField } {
  const { nics: nicPatches, ...top } = patch as Partial<Network> & { nics?: Array<Record<string, unknown>> }
  const nics = stored.nics.map(nic => ({ ...nic }))
  const seen = new Set<string>()
  // Errors name a NIC by its index in the body when it was sent there, as body validation does.
  const sentAt = new Map<number, number>()
  for (const [index, nicPatch] of (nicPatches ?? []).entries()) {
    const { name, macAddress: _mac, speed: _speed, ...changes } = nicPatch
    const target = nics.find(nic => nic.name === name)
    if (target === undefined) {
      throw invalid(`nics.${index}.name`, `names no NIC of this device (${nics.map(n => n.name).join(', ')}); NICs cannot be added`)
    }
    if (seen.has(String(name))) throw invalid(`nics.${index}.name`, `names ${String(name)} twice`)
    seen.add(String(name))
    sentAt.set(nics.indexOf(target), index)
    Object.assign(target, changes)
  }
  return { network: { ...stored, ...top, nics }, fieldOf: i => `nics.${sentAt.get(i) ?? i}` }
}

/** The error field prefix of the NIC at an index of the merged list. */
export type NicField = (index: number) => string

/** The rules between fields that the schema cannot say; throws a 400 naming the field. */
export function checkNetwork (network: Network, fieldOf: NicField = i => `nics.${i}`): void {
  const names = network.nics.map(nic => nic.name)
  if (!names.includes(network.defaultInterface)) {
    throw invalid('defaultInterface', `must name a NIC of this device (${names.join(', ')})`)
  }
  const owners = new Map<string, string>()
  for (const [index, nic] of network.nics.entries()) {
    checkNic(nic, fieldOf(index))
    if (nic.ipAddress === '') continue
    const other = owners.get(nic.ipAddress)
    if (other !== undefined) throw invalid(`${fieldOf(index)}.ipAddress`, `(${nic.name}) ${nic.ipAddress} is already the address of ${other}`)
    owners.set(nic.ipAddress, nic.name)
  }
}

function checkNic (nic: Nic, at: string): void {
  const problem = (field: string, message: string) => invalid(`${at}.${field}`, `(${nic.name}) ${message}`)
  const prefix = nic.subnetMask === '' ? undefined : prefixLength(nic.subnetMask)
  if (nic.subnetMask !== '' && (prefix === undefined || prefix === 0)) throw problem('subnetMask', 'must be a contiguous mask such as 255.255.255.0')
  // approximation: with dhcp the address fields show the lease; they are kept as sent, unchecked
  // beyond their format, since the emulator has no DHCP server to ask [ours].
  if (nic.addressing !== 'static') return
  if (nic.ipAddress === '') throw problem('ipAddress', 'is required when addressing is static')
  if (prefix === undefined) throw problem('subnetMask', 'is required when addressing is static')
  const hostProblem = hostAddressProblem(nic.ipAddress, prefix)
  if (hostProblem !== undefined) throw problem('ipAddress', hostProblem)
  if (nic.gateway === '') return
  if (!sameSubnet(nic.gateway, nic.ipAddress, prefix)) throw problem('gateway', `must be in the subnet ${nic.ipAddress}/${prefix}`)
  if (nic.gateway === nic.ipAddress) throw problem('gateway', 'must not be the NIC\'s own address')
  const gatewayProblem = hostAddressProblem(nic.gateway, prefix)
  if (gatewayProblem !== undefined) throw problem('gateway', gatewayProblem)
}
