import type { MemoryState } from './memory-state.ts'
import type { Durability } from './state-store.ts'
import type { StoreOptions } from './store.ts'

export async function openDurable (_options: StoreOptions & { file: string }): Promise<{ state: MemoryState, writer: Durability }> {
  throw new Error('durable mode: not implemented yet')
}
