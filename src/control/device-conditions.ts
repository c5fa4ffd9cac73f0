import type { Store } from '../kernel/store.ts'
import { readNetwork } from '../system/network-routes.ts'

/**
 * What is wrong with the device right now, as device events left it, in memory like sessions:
 * NICs whose link is down (with the speed to restore) and a time until which the device's API
 * does not answer. A reset ends both; a snapshot keeps the NICs.
 */
export class DeviceConditions {
  /** NIC name -> its speed before the link went down. */
  readonly nicsDown = new Map<string, number>()
  /** Clock time (ms) until which /apis answers by resetting the connection. */
  unreachableUntil: number | undefined

  clear (): void {
    this.nicsDown.clear()
    this.unreachableUntil = undefined
  }

  /** Why a stream cannot run now: it receives or sends over a NIC that is down. */
  hold (store: Store, uuid: string): { reason: string, cause: string } | undefined {
    if (this.nicsDown.size === 0) return undefined
    for (const nic of nicsOfStream(store, uuid)) {
      if (this.nicsDown.has(nic)) return { reason: `network: the link of ${nic} is down`, cause: nicCause(nic) }
    }
    return undefined
  }
}

export const nicCause = (nic: string): string => `nic:${nic}`

/**
 * The NICs a stream uses: its input's (a UDP input names one; other inputs arrive on the default
 * route [ours]) and each output's (`auto` follows the default route).
 */
export function nicsOfStream (store: Store, uuid: string): Set<string> {
  const stream = store.get('streams', uuid)
  const nics = new Set<string>()
  if (stream === undefined) return nics
  const defaultNic = readNetwork(store).defaultInterface
  const input = typeof stream.input === 'string' ? store.get('inputs', stream.input) : undefined
  nics.add(typeof input?.network_interface === 'string' ? input.network_interface : defaultNic)
  for (const id of Array.isArray(stream.outputs) ? stream.outputs : []) {
    const output = store.get('outputs', String(id))
    const nic = output?.network_interface
    nics.add(typeof nic === 'string' && nic !== 'auto' ? nic : defaultNic)
  }
  return nics
}
