import { Type, type Static } from 'typebox'
import { Ignored, patchOf } from './patch-schema.ts'

/** The network singleton, `GET`/`PUT /apis/v2/system/network` (kraken-api.md section 7). */

/** A Linux interface name (IFNAMSIZ is 16 including the terminator). */
export const NIC_NAME_PATTERN = '^[A-Za-z0-9._-]{1,15}$'

const ipv4OrEmpty = (description: string) =>
  Type.Union([Type.String({ format: 'ipv4' }), Type.Literal('')], { default: '', description: `${description}; "" when none` })

const hostOrEmpty = (description: string) =>
  Type.Union([Type.String({ format: 'hostname', maxLength: 253 }), Type.Literal('')], { default: '', description: `${description}; "" when none` })

export const Nic = Type.Object({
  name: Type.String({ pattern: NIC_NAME_PATTERN, description: 'interface name (eth0, ...); NICs are hardware: they cannot be added, removed or renamed' }),
  addressing: Type.Enum(['static', 'dhcp'], { type: 'string', default: 'dhcp', description: 'static or dhcp' }),
  ipAddress: ipv4OrEmpty('IPv4 address (with dhcp: the leased one)'),
  subnetMask: ipv4OrEmpty('contiguous IPv4 subnet mask such as 255.255.255.0'),
  gateway: ipv4OrEmpty('IPv4 gateway in the NIC\'s subnet'),
  macAddress: Type.String({ pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$', description: 'read-only: the hardware address' }),
  mtu: Type.Integer({ minimum: 576, maximum: 9000, default: 1500, description: 'bytes, 576-9000' }),
  speed: Type.Integer({ minimum: 0, default: 0, description: 'read-only: link speed in Mbit/s, 0 when the link is down' }),
  peerDns: Type.Boolean({ default: true, description: 'use the DNS servers a DHCP server offers' })
}, { additionalProperties: false })
export type Nic = Static<typeof Nic>

/** Factory values: what a device shows when its data names none [ours]. */
export const FACTORY_NICS: Nic[] = [
  { name: 'eth0', addressing: 'dhcp', ipAddress: '192.168.1.50', subnetMask: '255.255.255.0', gateway: '192.168.1.1', macAddress: '02:4b:52:00:00:10', mtu: 1500, speed: 1000, peerDns: true },
  { name: 'eth1', addressing: 'dhcp', ipAddress: '', subnetMask: '', gateway: '', macAddress: '02:4b:52:00:00:11', mtu: 1500, speed: 0, peerDns: true },
  { name: 'eth2', addressing: 'dhcp', ipAddress: '', subnetMask: '', gateway: '', macAddress: '02:4b:52:00:00:12', mtu: 1500, speed: 0, peerDns: true }
]

export const Network = Type.Object({
  hostname: Type.String({ format: 'hostname', minLength: 1, maxLength: 253, default: 'kraken', description: 'the device host name (also in systeminfo)' }),
  ipForward: Type.Boolean({ default: false, description: 'route IP packets between the NICs' }),
  ntpAddress: hostOrEmpty('NTP server: host name or IPv4 address'),
  'dnsServer-0': ipv4OrEmpty('first DNS server'),
  'dnsServer-1': ipv4OrEmpty('second DNS server'),
  defaultInterface: Type.String({ pattern: NIC_NAME_PATTERN, default: 'eth0', description: 'the NIC that carries the default route: the name of one of `nics`' }),
  nics: Type.Array(Nic, { minItems: 1, default: FACTORY_NICS, description: 'the network interfaces, in hardware order' })
}, { additionalProperties: false, description: 'The network settings of the device' })
export type Network = Static<typeof Network>

/** A NIC in a PUT: named, the rest optional; read-only fields ignored. */
export const NicPatch = patchOf(Nic, {
  name: Type.String({ pattern: NIC_NAME_PATTERN, description: 'names the NIC to change (it must exist)' }),
  macAddress: Ignored,
  speed: Ignored
})

/** PUT merges over the stored settings; NICs are matched by name and the ones not sent keep theirs. */
export const NetworkPatch = patchOf(Network, {
  nics: Type.Optional(Type.Array(NicPatch, { description: 'changes to existing NICs, matched by name; NICs not listed keep their settings' }))
}, { description: 'The fields to change; read-only fields (macAddress, speed) are ignored', examples: [{ hostname: 'kraken-lab', ntpAddress: 'pool.ntp.org' }] })
