#!/usr/bin/env node
import { DEFAULT_PASSWORD, loadConfig, type Config } from './config.ts'
import { startEmulator, type RunningEmulator } from './start-emulator.ts'
import { CertificateError } from './tls/certificate.ts'
import { StoreLoadError } from './kernel/store.ts'
import { FixtureError } from './fixtures.ts'
import { findSubcommand, subcommandHelp } from './subcommands.ts'
import { isFleet } from './fleet/fleet-plan.ts'
import { READY_SCHEMA, runFleetCli } from './fleet-cli.ts'

/** The only entry that reads argv and the environment, and the only one that exits the process. */
async function main (): Promise<void> {
  // `kraken-emulator scenario ...`, `licence mint`, `parity`, ...: tools beside the emulator.
  const subcommand = findSubcommand(process.argv[2])
  if (subcommand !== undefined) process.exit(await subcommand.run(process.argv.slice(3), process.env))
  const parsed = loadConfig(process.argv.slice(2), process.env, subcommandHelp())
  if (parsed.kind === 'exit') {
    if (parsed.code === 0) process.stdout.write(parsed.output)
    else process.stderr.write(`kraken-emulator: ${parsed.output.replace(/^error: /, '')}\n`)
    process.exit(parsed.code)
  }
  const config = parsed.config
  if (isFleet(config)) {
    const fleet = await runFleetCli(config, parsed.given)
    warnAboutDefaults(config)
    onSignals(signal => fleet.app.log.info({ signal }, 'shutting down'), () => fleet.close())
    return
  }
  let emulator
  try {
    // With --print-ready json, stdout carries the ready line and nothing else: a script reads one
    // line and may stop reading, so logs go to stderr and can never fill a pipe nobody drains.
    // --in-memory writes nothing, not even certs/: the certificate is made in memory too unless a
    // certificate was named (--certs, --cert/--key).
    const certs = config.inMemory && !parsed.given.has('certs') ? undefined : config.certs
    emulator = await startEmulator({ ...config, certs, ...(config.printReady === 'json' && { logStream: process.stderr }) })
  } catch (error) {
    if (error instanceof CertificateError || error instanceof StoreLoadError || error instanceof FixtureError ||
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE' || (error as NodeJS.ErrnoException).code === 'EACCES') {
      // One line, always: a message may quote a file whose content holds line breaks.
      process.stderr.write(`kraken-emulator: ${(error as Error).message.replace(/\s*[\r\n]+\s*/g, ' ').trim()}\n`)
      process.exit(2)
    }
    throw error
  }
  announce(config, emulator)
  for (const warning of emulator.warnings) process.stderr.write(`kraken-emulator: WARNING: ${warning}\n`)
  warnAboutDefaults(config)

  onSignals(signal => emulator.app.log.info({ signal }, 'shutting down'), () => emulator.close())
}

/** SIGINT/SIGTERM close gracefully; a second one exits at once. */
function onSignals (log: (signal: NodeJS.Signals) => void, close: () => Promise<void>): void {
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now": skip the rest of the graceful close (128 + signal number).
      process.stderr.write(`kraken-emulator: ${signal} again, exiting without waiting for the graceful close\n`)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    stopping = true
    log(signal)
    close().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`kraken-emulator: shutdown failed: ${(error as Error).message}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

function announce (config: Config, emulator: RunningEmulator): void {
  const { url, port, fingerprint, httpPort } = emulator
  // A generated control token is shown once, here: nobody else can learn it. A configured one is
  // the user's secret and never printed.
  const controlToken = emulator.app.kraken.control.generated ? emulator.controlToken : undefined
  if (config.printReady === 'json') {
    process.stdout.write(JSON.stringify({ schema: READY_SCHEMA, url, port, fingerprint, pid: process.pid, ...(httpPort !== undefined && { httpPort }), ...(controlToken !== undefined && { controlToken }) }) + '\n')
    return
  }
  // The default password is public (the integrator's guide prints it); a configured one is never shown.
  const password = config.adminPassword === DEFAULT_PASSWORD ? DEFAULT_PASSWORD : '(the configured --admin-password)'
  const control = controlToken === undefined ? '' : `  control token: ${controlToken}`
  const redirect = httpPort === undefined ? '' : `  plain HTTP redirect: port ${httpPort}`
  process.stdout.write(`kraken-emulator ready at ${url}/apis/v2  login: haiadmin / ${password}  certificate SHA-256: ${fingerprint}${redirect}${control}\n`)
}

function warnAboutDefaults (config: Config): void {
  const loopback = config.host === 'localhost' || config.host === '::1' || config.host.startsWith('127.')
  const defaults = [config.adminPassword, config.operatorPassword, config.viewerPassword].some(p => p === DEFAULT_PASSWORD)
  if (!loopback && defaults) {
    process.stderr.write(`kraken-emulator: WARNING: listening on ${config.host} with a default password; set --admin-password, --operator-password and --viewer-password\n`)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`kraken-emulator: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
