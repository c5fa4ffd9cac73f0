import type { Resource } from '../kernel/define-resource.ts'
import { accounts } from './accounts.ts'
import { archiveLocations } from './archive-locations.ts'
import { inputs } from './inputs.ts'
import { metadata } from './metadata.ts'
import { outputs } from './outputs.ts'
import { relays } from './relays.ts'
import { streams } from './streams.ts'
import { transcoders } from './transcoders.ts'

/** The registry: every Kraken resource, one line each (nested ones after their parent). */
export const resources: Resource[] = [
  accounts,
  streams,
  inputs,
  archiveLocations,
  outputs,
  transcoders,
  metadata,
  relays
]
