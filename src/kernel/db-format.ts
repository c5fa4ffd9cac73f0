// The `format` field of a data file (and of a Db): `kraken-emulator/<version>`. Every release up
// to the one that introduced migrations wrote version 1; see migrate-db.ts for moving forward.
const PREFIX = 'kraken-emulator/'

export function formatOf (version: number): string {
  return `${PREFIX}${version}`
}

/** The version a `format` value names, or undefined when it names none. */
export function versionOf (format: unknown): number | undefined {
  if (typeof format !== 'string' || !format.startsWith(PREFIX)) return undefined
  const digits = format.slice(PREFIX.length)
  if (!/^[1-9][0-9]{0,8}$/.test(digits)) return undefined
  return Number(digits)
}
