import { Type, type Static } from 'typebox'
import type { Store } from '../kernel/store.ts'
import { readSingleton } from './singleton.ts'

/** The store singleton of the date and time settings; absent, it reads as the factory values. */
export const DATETIME = 'datetime'

/** Every IANA zone this Node knows, and UTC (which some ICU builds list only as Etc/UTC). */
let zones: ReadonlySet<string> | undefined
export function isTimeZone (name: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC'])
  return zones.has(name)
}

/**
 * The stored settings [ours]. The NTP server itself is the network settings' `ntpAddress` (the
 * device's network page holds it), not a copy here. In `manual` mode the device's time is the
 * emulator's clock plus `offset_ms`, so it keeps running on that clock (and moves with
 * /_emulator/clock); in `ntp` mode it is the emulator's clock, which stands for the true time.
 */
export const StoredDateTime = Type.Object({
  mode: Type.Enum(['ntp', 'manual'], { type: 'string', default: 'ntp', description: 'ntp: the time comes from the NTP server; manual: as set' }),
  timezone: Type.String({ minLength: 1, maxLength: 64, default: 'UTC', description: 'IANA time zone (Europe/Paris, America/New_York, UTC)' }),
  offset_ms: Type.Integer({ default: 0, description: 'manual mode: device time minus the emulator clock' })
}, { additionalProperties: false })
export type StoredDateTime = Static<typeof StoredDateTime>

export function readDateTime (store: Store): StoredDateTime {
  return readSingleton(store, DATETIME, StoredDateTime)
}

/** The device's time (ms since the epoch): the emulator's clock, shifted in manual mode. */
export function deviceNow (store: Store, clockNow: number): number {
  const settings = readDateTime(store)
  return settings.mode === 'manual' ? clockNow + settings.offset_ms : clockNow
}

/** `+01:00` for Europe/Paris in winter, `+00:00` for UTC. */
export function utcOffset (at: number, timezone: string): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(at)).find(p => p.type === 'timeZoneName')?.value ?? 'GMT'
  const match = /^GMT([+-]\d{2}):?(\d{2})?$/.exec(name)
  return match === null ? '+00:00' : `${match[1] ?? '+00'}:${match[2] ?? '00'}`
}

/** ISO 8601 local time with its offset, to the second: 2026-11-29T21:04:05+01:00. */
export function localIso (at: number, timezone: string): string {
  const offset = utcOffset(at, timezone)
  const sign = offset.startsWith('-') ? -1 : 1
  const minutes = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)))
  const shifted = new Date(Math.floor(at / 1000) * 1000 + minutes * 60_000)
  return shifted.toISOString().replace(/\.\d{3}Z$/, offset)
}
