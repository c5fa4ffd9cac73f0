import type { Resource } from '../kernel/define-resource.ts'
import { accounts } from './accounts.ts'

/** The registry: every Kraken resource, one line each. */
export const resources: Resource[] = [
  accounts
]
