import { fileURLToPath } from 'node:url'
import { ManualClock } from '../../src/kernel/clock.ts'
import type { Config } from '../../src/config.ts'
import type { KrakenApp } from '../../src/app.ts'
import { makeApp } from './app.ts'

/** The runtime tests' own device: max_encoders 2, three transcoding and two Bypass streams. */
export const RUNTIME_FIXTURE = fileURLToPath(new URL('../fixtures/runtime', import.meta.url))

/** Stream uuids of the runtime fixture. */
export const S = {
  camera720: '5e000000-0000-4000-8000-000000000001', // transcoder, auto_start
  hevcUplink: '5e000000-0000-4000-8000-000000000002', // transcoder (SRT input, HEVC, 25 fps)
  passthru: '5e000000-0000-4000-8000-000000000003', // passthru
  relay: '5e000000-0000-4000-8000-000000000004', // iorouter, auto_start
  rtmpRelay: '5e000000-0000-4000-8000-000000000005' // iorouter (RTMP input)
} as const

export const TRANSCODER_720 = '7c000000-0000-4000-8000-000000000001'
export const INPUT_UDP = '1a000000-0000-4000-8000-000000000001'
export const OUTPUT_1 = '0b000000-0000-4000-8000-000000000001'

export const streamUrl = (uuid: string, suffix = ''): string => `/apis/v2/streams/stream-${uuid}${suffix}`

/** An app on the runtime fixture with a manual clock and a fixed seed. */
export async function makeRuntimeApp (config: Partial<Config> = {}): Promise<{ app: KrakenApp, clock: ManualClock }> {
  const clock = new ManualClock()
  const app = await makeApp({ fixture: RUNTIME_FIXTURE, seed: 42, ...config }, { clock })
  await app.ready()
  return { app, clock }
}
