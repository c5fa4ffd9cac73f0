// The heap of an in-process emulator before, with and after `pages` live pages' event streams
// (issue 17, acceptance 4: closing them frees their memory). Each figure after a full GC.
import v8 from 'node:v8'
import vm from 'node:vm'
import { startEmulator } from '../src/start-emulator.ts'
import { BenchClient } from './http.ts'
import { openLivePages } from './live-pages.ts'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function heapMb (): number {
  gc()
  gc()
  return v8.getHeapStatistics().used_heap_size / 1024 / 1024
}

export async function liveHeap (pages: number): Promise<{ before: number, open: number, closed: number }> {
  const emu = await startEmulator({ port: 0, inMemory: true, logLevel: 'silent' })
  const client = new BenchClient(emu.certificate)
  try {
    // The sessions and a first page opened and closed before the baseline, so the figures compare pages only.
    const cookies = await client.sessions(emu.url, pages)
    const warm = await openLivePages(emu.certificate, emu.url, cookies.slice(0, 1))
    await warm.close()
    while (emu.app.liveHub.size > 0) await new Promise(resolve => setImmediate(resolve))
    const before = heapMb()
    const open = await openLivePages(emu.certificate, emu.url, cookies)
    while (open.bytes() === 0) await new Promise(resolve => setTimeout(resolve, 10))
    const withPages = heapMb()
    await open.close()
    while (emu.app.liveHub.size > 0) await new Promise(resolve => setImmediate(resolve))
    const closed = heapMb()
    return { before, open: withPages, closed }
  } finally {
    await client.close()
    await emu.close()
  }
}
