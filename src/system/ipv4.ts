/** IPv4 arithmetic for the network rules. Inputs are dotted quads already checked by the schema. */

export function toInt (address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)
}

/** The prefix length of a contiguous mask (255.255.255.0 -> 24), or undefined when not contiguous. */
export function prefixLength (mask: string): number | undefined {
  const bits = toInt(mask)
  for (let prefix = 0; prefix <= 32; prefix++) {
    const candidate = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
    if (candidate === bits) return prefix
  }
  return undefined
}

function maskOf (prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

export function sameSubnet (a: string, b: string, prefix: number): boolean {
  const mask = maskOf(prefix)
  return ((toInt(a) & mask) >>> 0) === ((toInt(b) & mask) >>> 0)
}

/** Why `address` cannot be a host address in its subnet, or undefined when it can. */
export function hostAddressProblem (address: string, prefix: number): string | undefined {
  const n = toInt(address)
  const first = n >>> 24
  if (first === 0) return 'must not be in 0.0.0.0/8'
  if (first === 127) return 'must not be a loopback address'
  if (first >= 224) return 'must not be a multicast or reserved address'
  if (prefix <= 30) {
    const host = (n & ~maskOf(prefix)) >>> 0
    if (host === 0) return `is the network address of its /${prefix} subnet`
    if (host === (~maskOf(prefix) >>> 0)) return `is the broadcast address of its /${prefix} subnet`
  }
  return undefined
}
