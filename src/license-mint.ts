// `kraken-emulator licence mint`: signs an emulator licence file (README "Licence").
import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { signLicense, type LicenseTerms } from './system/index.ts'

/**
 * THE EMULATOR'S TEST LICENCE SIGNING KEY (Ed25519, PKCS#8). It is public on purpose: anyone may
 * mint licences for the emulator, which is what an emulator is for. It matches the public key in
 * src/system/license-key.ts, protects nothing, and must never sign anything real.
 */
export const TEST_LICENSE_PRIVATE_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIIldo6T388/mQKOS06HtGEXXVLYG4F0nUD3FU2wMUonc
-----END PRIVATE KEY-----
`

const FEATURES = ['Recording', 'KLV']

function integer (min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`)
    return Number(value)
  }
}

/** `never`, epoch seconds, or an ISO 8601 date or time. */
function expiry (value: string): number {
  if (value === 'never') return 0
  if (/^\d+$/.test(value)) return Number(value)
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new InvalidArgumentError('must be never, epoch seconds or an ISO 8601 date (2027-01-31)')
  return Math.floor(ms / 1000)
}

function features (value: string): string[] {
  const list = value.split(',').map(f => f.trim()).filter(f => f !== '')
  const canonical = list.map(f => FEATURES.find(known => known.toLowerCase() === f.toLowerCase()))
  const unknown = list.find((_f, i) => canonical[i] === undefined)
  if (unknown !== undefined) throw new InvalidArgumentError(`'${unknown}' is no feature (${FEATURES.join(', ')}; "" for none)`)
  return [...new Set(canonical as string[])]
}

function mac (value: string): string {
  if (value === '' || value === 'any') return ''
  if (!/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/.test(value)) throw new InvalidArgumentError('must be a MAC address (02:4b:52:24:03:a0) or any')
  return value.toLowerCase()
}

function versionLimit (value: string): string {
  if (!/^\d{1,4}(\.\d{1,4}){0,3}$/.test(value)) throw new InvalidArgumentError('must be a dotted version such as 4.99')
  return value
}

interface Output { stdout: (text: string) => void, stderr: (text: string) => void }

/**
 * Runs `licence <args>` (argv after the word `licence`); returns the exit status. Only `mint`
 * exists: it writes a licence file (JSON) to stdout or `--out`.
 */
export function runLicenseCommand (args: readonly string[], out: Output, now: () => number = Date.now): number {
  const program = new Command('kraken-emulator licence')
    .description('emulator licence files')
    .exitOverride()
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr })
  program.command('mint')
    .description('sign a licence file for the emulator with the test key (or --key); install it with PUT /apis/v2/license')
    .option('--max-encoders <n>', 'transcoding sessions', integer(0, 1000), 4)
    .option('--features <list>', 'comma-separated features: Recording, KLV ("" for none)', features, FEATURES)
    .option('--version-limit <version>', 'highest software version it allows', versionLimit, '4.99')
    .option('--expiry <when>', 'never, epoch seconds or an ISO 8601 date', expiry, 0)
    .option('--mac <address>', 'MAC address of the device NIC it is bound to, or any', mac, '')
    .option('--issued <when>', 'epoch seconds or ISO date it was issued (default: now)', expiry)
    .option('--id <uuid>', 'licence id (default: a random UUID)')
    .option('--key <file>', 'PKCS#8 PEM Ed25519 private key to sign with (default: the emulator\'s public test key)')
    .option('--out <file>', 'write the licence file here instead of stdout')
    .action((options: { maxEncoders: number, features: string[], versionLimit: string, expiry: number, mac: string, issued?: number, id?: string, key?: string, out?: string }) => {
      const terms: LicenseTerms = {
        licence_id: options.id ?? randomUUID(),
        issued: options.issued ?? Math.floor(now() / 1000),
        expiration: options.expiry,
        max_encoders: options.maxEncoders,
        features: options.features as LicenseTerms['features'],
        version_limit: options.versionLimit,
        mac_address: options.mac
      }
      const key = options.key === undefined ? TEST_LICENSE_PRIVATE_KEY_PEM : readFileSync(options.key, 'utf8')
      const text = JSON.stringify(signLicense(terms, key), null, 2) + '\n'
      if (options.out === undefined) out.stdout(text)
      else writeFileSync(options.out, text, { mode: 0o644 })
    })
  try {
    program.parse([...args], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    out.stderr(`kraken-emulator licence: ${(error as Error).message}\n`)
    return 2
  }
  return 0
}
