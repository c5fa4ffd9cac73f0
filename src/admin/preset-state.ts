import { isDeepStrictEqual } from 'node:util'
import type { Db, Store } from '../kernel/store.ts'
import type { Registry } from '../kernel/registry.ts'
import { configurationAtCurrent, currentConfiguration, type Configuration } from './preset-file.ts'

/** The store singleton that holds the presets: configuration, so durable through the store's journal. */
export const PRESETS = 'presets'

export interface StoredPreset {
  name: string
  /** Epoch seconds. */
  saved: number
  /** The data format its items were saved in (absent: kraken-emulator/1); older ones migrate when used. */
  data_format?: string
  configuration: Configuration
}

export interface PresetState {
  /** The preset loaded last, or null (none loaded, or it was deleted). */
  active: string | null
  /** The preset applied after a reboot, or null. */
  startup: string | null
  presets: StoredPreset[]
}

export function readPresetState (store: Store): PresetState {
  const stored = store.singleton(PRESETS) as Partial<PresetState> | undefined
  return {
    active: stored?.active ?? null,
    startup: stored?.startup ?? null,
    presets: structuredClone(stored?.presets ?? [])
  }
}

export function presetState (db: Db): PresetState {
  const stored = db.singletons[PRESETS] as Partial<PresetState> | undefined
  return { active: stored?.active ?? null, startup: stored?.startup ?? null, presets: stored?.presets ?? [] }
}

/** A collection in a canonical order, so that equality does not depend on the order items were written. */
function sorted (items: readonly Record<string, unknown>[], idField: string): unknown[] {
  return [...items].sort((a, b) => String(a[idField]).localeCompare(String(b[idField])))
}

/** True when the device's configuration differs from the active preset's (the Makito's `activeWasModified`). */
export function activeWasModified (store: Store, registry: Registry, state: PresetState): boolean {
  const active = state.presets.find(p => p.name === state.active)
  if (active === undefined) return false
  let saved: Configuration
  try {
    saved = configurationAtCurrent(active.configuration, active.data_format)
  } catch {
    return true // a preset no migration can bring forward differs from anything the device can hold
  }
  const now = currentConfiguration(store, registry)
  return Object.keys(now).some(c => !isDeepStrictEqual(
    sorted(now[c] ?? [], registry.idField(c)), sorted(saved[c] ?? [], registry.idField(c))))
}
