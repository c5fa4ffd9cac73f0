import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'

export type SessionIdFormat = 'uuid' | 'token'
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/** Every setting of the emulator. `resolveConfig` fills the defaults; only `loadConfig` reads argv/env. */
export interface Config {
  host: string
  port: number
  httpPort: number | undefined
  hostname: string | undefined
  data: string
  inMemory: boolean
  fixture: string
  certs: string
  cert: string | undefined
  key: string | undefined
  sessionTimeout: number
  sessionIdFormat: SessionIdFormat
  lockoutAttempts: number
  lockoutSeconds: number
  maxSessions: number
  loginQueue: number
  headerTimeout: number
  requestTimeout: number
  maxConnections: number
  adminPassword: string
  operatorPassword: string
  viewerPassword: string
  passwordPolicy: boolean
  transitionMs: number
  rebootMs: number
  seed: number | undefined
  /** The device clock: `real` (wall-clock time) or `manual` (frozen at the start until moved). */
  clock: 'real' | 'manual'
  logLevel: LogLevel
  printReady: 'text' | 'json'
  /** The /_emulator control token: a secret, `off`, or undefined (generated off loopback). */
  controlToken: string | undefined
  /** Entries the request log keeps (0 turns it off). */
  journalSize: number
  /** Bytes the request log may hold, estimated per entry. */
  journalBytes: number
  /** scrypt cost of the passwords hashed by the emulator: `device` (default) or `fast` (fleets, CI). */
  passwordHash: 'device' | 'fast'
  /** Fleet mode (README "A fleet"): this many devices, numbered 1..n. */
  devices: number | undefined
  /** Fleet mode: a JSON file listing the devices. */
  fleet: string | undefined
  /** Fleet: device i listens on this address + i - 1 (one address per device). */
  deviceAddresses: string | undefined
  /** Fleet: device i listens on this port + i - 1 (one port per device). */
  devicePorts: number | undefined
  /** Fleet: device i answers to this name with `{i}` replaced (TLS SNI, then Host). */
  deviceHostnames: string | undefined
  /** Fleet: `<index>/<count>` (index 0-based, or `ordinal`): serve one contiguous block of the devices. */
  shard: string | undefined
}

export const DEFAULT_PASSWORD = 'krakenapi'

export const defaults: Config = {
  host: '127.0.0.1',
  port: 8443,
  httpPort: undefined,
  hostname: undefined,
  data: 'data/kraken.json',
  inMemory: false,
  fixture: 'default',
  certs: 'certs',
  cert: undefined,
  key: undefined,
  sessionTimeout: 900,
  sessionIdFormat: 'uuid',
  lockoutAttempts: 5,
  lockoutSeconds: 300,
  maxSessions: 10_000,
  loginQueue: 100,
  headerTimeout: 30_000,
  requestTimeout: 60_000,
  maxConnections: 1000,
  adminPassword: DEFAULT_PASSWORD,
  operatorPassword: DEFAULT_PASSWORD,
  viewerPassword: DEFAULT_PASSWORD,
  passwordPolicy: true,
  transitionMs: 1000,
  rebootMs: 3000,
  seed: undefined,
  clock: 'real',
  logLevel: 'info',
  printReady: 'text',
  controlToken: undefined,
  journalSize: 10_000,
  journalBytes: 16 * 1024 * 1024,
  passwordHash: 'device',
  devices: undefined,
  fleet: undefined,
  deviceAddresses: undefined,
  devicePorts: undefined,
  deviceHostnames: undefined,
  shard: undefined
}

export function resolveConfig (partial: Partial<Config> = {}): Config {
  const config: Config = { ...defaults }
  for (const [key, value] of Object.entries(partial) as Array<[keyof Config, unknown]>) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value
  }
  return config
}

/** Thrown for a bad option; the CLI prints its message on one line and exits with status 2. */
export class ConfigError extends Error {}

function integer (min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw)
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    }
    return value
  }
}

function choice<T extends string> (values: readonly T[]) {
  return (raw: string): T => {
    if (!(values as readonly string[]).includes(raw)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`)
    return raw as T
  }
}

function nonEmpty (raw: string): string {
  if (raw.trim() === '') throw new InvalidArgumentError('expected a non-empty value')
  return raw
}

function onOff (raw: string): boolean {
  if (['on', 'true', '1', 'yes'].includes(raw)) return true
  if (['off', 'false', '0', 'no'].includes(raw)) return false
  throw new InvalidArgumentError('expected on or off')
}

const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** The option table: one line per setting, each with its flag, environment variable and default. */
function options (): Option[] {
  const env = (name: string) => `KRAKEN_${name}`
  return [
    new Option('--host <address>', 'address to listen on').env(env('HOST')).argParser(nonEmpty),
    new Option('--port <n>', 'HTTPS port (0 picks a free port)').env(env('PORT')).argParser(integer(0, 65535)),
    new Option('--http-port <n>', 'optional plain-HTTP port that redirects (301) to HTTPS').env(env('HTTP_PORT')).argParser(integer(0, 65535)),
    new Option('--hostname <name>', 'extra name for the generated certificate and redirects').env(env('HOSTNAME')).argParser(nonEmpty),
    new Option('--data <file>', 'JSON data file (created from the fixture on first start)').env(env('DATA')).argParser(nonEmpty),
    new Option('--in-memory', 'keep state in memory only (nothing written)').env(env('IN_MEMORY')),
    new Option('--fixture <name|path>', 'fixture to seed from: a name in fixtures/, or a path to a fixture folder or JSON file').env(env('FIXTURE')).argParser(nonEmpty),
    new Option('--certs <dir>', 'directory of cert.pem/key.pem (generated when absent)').env(env('CERTS')).argParser(nonEmpty),
    new Option('--cert <file>', 'TLS certificate (PEM); goes with --key; wins over one chosen through the API').env(env('CERT')).argParser(nonEmpty),
    new Option('--key <file>', 'TLS private key (PEM); goes with --cert').env(env('KEY')).argParser(nonEmpty),
    new Option('--session-timeout <s>', 'idle timeout of a session in seconds (sliding)').env(env('SESSION_TIMEOUT')).argParser(integer(1, 31_536_000)),
    new Option('--session-id-format <format>', 'session ids: uuid (UUID v4) or token (40 alphanumerics)').env(env('SESSION_ID_FORMAT')).argParser(choice(['uuid', 'token'] as const)),
    new Option('--lockout-attempts <n>', 'failed logins before an account is locked (0 disables)').env(env('LOCKOUT_ATTEMPTS')).argParser(integer(0, 1000)),
    new Option('--lockout-seconds <s>', 'how long a locked account stays locked (0 disables)').env(env('LOCKOUT_SECONDS')).argParser(integer(0, 31_536_000)),
    new Option('--max-sessions <n>', 'live sessions at most, all accounts together; past it a login answers 503 with Retry-After').env(env('MAX_SESSIONS')).argParser(integer(1, 10_000_000)),
    new Option('--login-queue <n>', 'logins in progress at most per account name, and for all unknown names together; past it a login answers 429 with Retry-After').env(env('LOGIN_QUEUE')).argParser(integer(1, 100_000)),
    new Option('--header-timeout <ms>', 'time a connection has for its TLS handshake, then for each request head; the connection is then closed').env(env('HEADER_TIMEOUT')).argParser(integer(1, 3_600_000)),
    new Option('--request-timeout <ms>', 'time a client has to send a whole request, head and body; the connection is then closed').env(env('REQUEST_TIMEOUT')).argParser(integer(1, 3_600_000)),
    new Option('--max-connections <n>', 'open connections at most; one more is closed as soon as it is accepted').env(env('MAX_CONNECTIONS')).argParser(integer(1, 1_000_000)),
    new Option('--admin-password <password>', 'password of haiadmin when the store is seeded (default: krakenapi)').env(env('ADMIN_PASSWORD')).argParser(nonEmpty),
    new Option('--operator-password <password>', 'password of operator when the store is seeded (default: krakenapi)').env(env('OPERATOR_PASSWORD')).argParser(nonEmpty),
    new Option('--viewer-password <password>', 'password of user when the store is seeded (default: krakenapi)').env(env('VIEWER_PASSWORD')).argParser(nonEmpty),
    new Option('--password-policy <on|off>', 'enforce the device password policy on API-set passwords (default: on)').env(env('PASSWORD_POLICY')).argParser(onOff),
    new Option('--transition-ms <ms>', 'duration of each stream start/stop transition').env(env('TRANSITION_MS')).argParser(integer(0, 600_000)),
    new Option('--reboot-ms <ms>', 'how long a reboot keeps the API unavailable').env(env('REBOOT_MS')).argParser(integer(0, 600_000)),
    new Option('--seed <n>', 'seed of the statistics generator and of fault probabilities and random delays (deterministic values)').env(env('SEED')).argParser(integer(0, 2 ** 31 - 1)),
    new Option('--clock <mode>', 'device clock: real, or manual (starts frozen at the real time; moved only through /_emulator/clock)').env(env('CLOCK')).argParser(choice(['real', 'manual'] as const)),
    new Option('--log-level <level>', 'log level').env(env('LOG_LEVEL')).argParser(choice(logLevels)),
    new Option('--print-ready <format>', 'how to announce readiness on stdout: text or json (one JSON line)').env(env('PRINT_READY')).argParser(choice(['text', 'json'] as const)),
    new Option('--control-token <secret>', 'token the /_emulator control routes require in the X-Kraken-Control-Token header, or `off` to open them (with a warning) (default: none on loopback, generated and printed on any other address)').env(env('CONTROL_TOKEN')).argParser(nonEmpty),
    new Option('--journal-size <n>', 'requests the request log keeps (GET /_emulator/requests), oldest dropped first; 0 turns it off').env(env('JOURNAL_SIZE')).argParser(integer(0, 10_000_000)),
    new Option('--journal-bytes <n>', 'bytes the request log may hold (bodies over 4 KB are cut), oldest dropped first (default: `16777216`, 16 MiB)').env(env('JOURNAL_BYTES')).argParser(integer(0, 2 ** 32)),
    new Option('--password-hash <cost>', 'scrypt cost of the passwords the emulator hashes: device (as a real device, ~50 ms a login) or fast (N=2^10, a few ms; for fleets and CI)').env(env('PASSWORD_HASH')).argParser(choice(['device', 'fast'] as const)),
    new Option('--devices <n>', 'fleet mode: serve this many devices, numbered 1..n (README "A fleet")').env(env('DEVICES')).argParser(integer(1, 100_000)),
    new Option('--fleet <file.json>', 'fleet mode: the devices listed in this JSON file (fixture, hostname, serial, MACs, licence, passwords, certificate)').env(env('FLEET')).argParser(nonEmpty),
    new Option('--device-addresses <first-ip>', 'fleet: device i listens on this IPv4 address + i - 1, on --port').env(env('DEVICE_ADDRESSES')).argParser(nonEmpty),
    new Option('--device-ports <first-port>', 'fleet: device i listens on this port + i - 1, on --host (0: each on a free port)').env(env('DEVICE_PORTS')).argParser(integer(0, 65535)),
    new Option('--device-hostnames <pattern>', 'fleet: device i answers to this name with {i} replaced (TLS SNI, then Host), on --host and --port').env(env('DEVICE_HOSTNAMES')).argParser(nonEmpty),
    new Option('--shard <index>/<count>', 'fleet: serve shard index (0-based, or `ordinal`: the number ending the host name) of count contiguous blocks of the devices').env(env('SHARD')).argParser(nonEmpty)
  ]
}

/** `given`: the options set by a flag or a variable rather than left at their default. */
export type ParseResult = { kind: 'config', config: Config, given: ReadonlySet<keyof Config> } | { kind: 'exit', code: number, output: string }

/** Parses argv and env into a Config. Never exits the process and never prints: the CLI does. */
export function loadConfig (argv: readonly string[], env: Readonly<Record<string, string | undefined>>, helpAfter = ''): ParseResult {
  let output = ''
  const program = new Command('kraken-emulator')
    .description('An emulator of the Haivision Kraken REST API v2')
    .addHelpText('after', helpAfter)
    .helpOption('-h, --help', 'show this help')
    .version(version(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => { output += s }, writeErr: (s) => { output += s } })
    .allowExcessArguments(false)
  for (const option of options()) {
    // Shown in --help; resolveConfig() fills the same defaults for programmatic use.
    const key = option.attributeName() as keyof Config
    const value = defaults[key]
    if (value !== undefined && typeof value !== 'boolean' && !key.endsWith('Password')) option.default(value)
    program.addOption(option)
  }

  // commander reads option environment variables from process.env only; this keeps `env` explicit.
  const saved = process.env
  process.env = { ...env }
  try {
    program.parse(['node', 'kraken-emulator', ...argv])
  } catch (error) {
    const err = error as { exitCode?: number, code?: string }
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return { kind: 'exit', code: 0, output }
    return { kind: 'exit', code: 2, output: output.trim().split('\n')[0] ?? String(error) }
  } finally {
    process.env = saved
  }
  const raw = program.opts<Record<string, unknown>>()
  // commander sets a flag without argument to true whenever its variable is *present*, so
  // KRAKEN_IN_MEMORY=false would mean "in memory": read the value ourselves (empty = unset).
  if (program.getOptionValueSource('inMemory') === 'env') {
    const value = env.KRAKEN_IN_MEMORY ?? ''
    try { raw.inMemory = value === '' ? undefined : onOff(value) } catch { return { kind: 'exit', code: 2, output: 'error: KRAKEN_IN_MEMORY expects on or off' } }
  }
  const given = new Set(options().map(o => o.attributeName() as keyof Config).filter(key => {
    const source = program.getOptionValueSource(key)
    return source !== undefined && source !== 'default'
  }))
  return { kind: 'config', config: resolveConfig(raw as Partial<Config>), given }
}

let cachedVersion: string | undefined
/** The package version; read from package.json, one level above both src/ and dist/. */
export function version (): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return cachedVersion
}

/** Every option as documented (the README's table is generated from this). */
export function optionTable (): Array<{ flags: string, env: string, defaultValue: string, description: string }> {
  return options().map(option => {
    const key = option.attributeName() as keyof Config
    const value = defaults[key]
    const described = /\(default: ([^)]*)\)$/.exec(option.description)
    return {
      flags: option.flags,
      env: option.envVar ?? '',
      defaultValue: described?.[1] ?? (value === undefined ? '' : `\`${String(value)}\``),
      description: option.description.replace(/ \(default: [^)]*\)$/, '')
    }
  })
}
