import type { Db } from '../kernel/store.ts'
import { compile, detailsOf } from '../kernel/validator.ts'
import type { TObject } from 'typebox'
import { Network } from './network-schema.ts'
import { checkNetwork } from './network-rules.ts'
import { SystemIdentity, SYSTEMINFO } from './systeminfo.ts'
import { LICENSE, StoredLicense } from './license.ts'
import { SERVICES } from './services-routes.ts'
import { StoredServices } from './services-schema.ts'
import { NETWORK } from './network-routes.ts'
import { DATETIME, StoredDateTime } from './datetime.ts'

const SCHEMAS: Record<string, TObject> = { [SYSTEMINFO]: SystemIdentity, [NETWORK]: Network, [LICENSE]: StoredLicense, [SERVICES]: StoredServices, [DATETIME]: StoredDateTime }

/**
 * Checks the system singletons of a Db (a fixture or a data file) against their schemas and the
 * network rules; throws an Error naming the first problem. Missing singletons and keys are fine:
 * they read as the factory values. Unknown singletons are left to their owners.
 */
export function checkSystemSingletons (db: Db): void {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const value = db.singletons[name]
    if (value === undefined) continue
    const copy = structuredClone(value)
    const validate = compile(schema)
    if (!validate(copy)) {
      const d = detailsOf(validate.errors ?? [])[0]
      throw new Error(`singletons.${name}: ${d === undefined ? 'does not match its schema' : `${d.field} ${d.message}`}`)
    }
    if (name === NETWORK) {
      try {
        checkNetwork(copy as Network)
      } catch (error) {
        throw new Error(`singletons.${name}: ${(error as Error).message}`, { cause: error })
      }
    }
  }
  const webInterfaces = (db.singletons[SERVICES] as { webserver?: { data?: { listeners?: { interfaces?: unknown } } } } | undefined)?.webserver?.data?.listeners?.interfaces
  if (Array.isArray(webInterfaces) && db.singletons[NETWORK] !== undefined) {
    const nics = ((db.singletons[NETWORK] as Network).nics ?? []).map(n => n.name)
    const unknown = webInterfaces.find(i => !nics.includes(String(i)))
    if (unknown !== undefined) throw new Error(`singletons.${SERVICES}: webserver.data.listeners.interfaces names ${String(unknown)}, which is no NIC of singletons.${NETWORK}`)
  }
}
