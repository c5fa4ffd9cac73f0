import { send, type HttpResult } from './https.ts'
import type { Dispatcher } from 'undici'

type Emu = { url: string, agent: Dispatcher }

export const UAV_720P = '331df748-e675-4654-9e74-d83a19f7c36e'
export const UAV_PASSTHRU = 'c76c4ea0-6917-40fb-812c-e92468f55b93'
export const GATE_HEVC = 'd2081b9b-a37c-4bcb-a795-d1aebcaba5ed'
export const PRESS_BYPASS = '3ac33731-e7f5-4601-a7b4-09e2f2d45587'
export const UAV_INPUT = '7961d341-9dc8-4e57-96b0-161ce79fbe99'

/** POST /_emulator/clock. */
export async function moveClock (emu: Emu, body: unknown): Promise<HttpResult> {
  return await send(emu, 'POST', '/_emulator/clock', { body })
}

/** Advances the clock; throws unless 200. */
export async function advance (emu: Emu, ms: number): Promise<void> {
  const res = await moveClock(emu, { advance_ms: ms })
  if (res.status !== 200) throw new Error(`advance ${ms}: ${res.status} ${res.text}`)
}

/** POST /_emulator/device/events. */
export async function deviceEvent (emu: Emu, body: unknown): Promise<HttpResult> {
  return await send(emu, 'POST', '/_emulator/device/events', { body })
}

/** A stream as GET /streams/<uuid> shows it, and as the full list (?full=true) shows it: sub_status is no summary field. */
export async function streamStatus (emu: Emu, cookie: string, uuid: string): Promise<{ item: { status: string, sub_status: string }, listed: { status: string, sub_status: string } }> {
  const item = (await send(emu, 'GET', `/apis/v2/streams/${uuid}`, { cookie })).json() as { status: string, sub_status: string }
  const list = (await send(emu, 'GET', '/apis/v2/streams?full=true', { cookie })).json() as { stream_list: Array<{ uuid: string, status: string, sub_status: string }> }
  const listed = list.stream_list.find(s => s.uuid === uuid)
  if (listed === undefined) throw new Error(`stream ${uuid} not listed`)
  return { item: { status: item.status, sub_status: item.sub_status }, listed: { status: listed.status, sub_status: listed.sub_status } }
}

export interface Stats { uptime: number, overall_rate: number, input: { bytes: number, packets: number }, decoder: { frames_decoded: number }, encoder: { frames_encoded: number } | null }

export async function statistics (emu: Emu, cookie: string, uuid: string): Promise<Stats> {
  return (await send(emu, 'GET', `/apis/v2/streams/${uuid}/statistics`, { cookie })).json() as Stats
}
