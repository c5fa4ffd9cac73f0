import { existsSync, readFileSync } from 'node:fs'
import https from 'node:https'
import http from 'node:http'
import { Command, Option } from 'commander'
import { KrakenError } from './kernel/errors.ts'
import { formatAt, parseScenario } from './control/scenario-format.ts'
import { SCENARIO_NAME } from './control/scenario-library.ts'
import type { ScenarioStatus } from './control/scenario-player.ts'

interface Output { write: (text: string) => unknown }
interface Answer { status: ScenarioStatus | null }

const POLL_MS = 500

/**
 * `kraken-emulator scenario <file|name>`: starts a scenario on a running emulator through
 * POST /_emulator/scenarios and follows it until it ends. The emulator plays it: only it holds
 * the device clock (a manual one moves when a test says so), and its API calls go through its own
 * request handling. Exit status: 0 finished (or started, with --detach), 1 failed, stopped or
 * refused, 2 a bad argument or scenario file.
 */
export async function scenarioCommand (argv: readonly string[], env: Readonly<Record<string, string | undefined>>, out: Output, err: Output): Promise<number> {
  let help = ''
  const program = new Command('kraken-emulator scenario')
    .description('Play a scenario (a file, or the name of a shipped one) on a running emulator and follow it to its end')
    .argument('<file|name>', 'a scenario file (JSON), or the name of a shipped scenario (training-walkthrough, outage-recovery)')
    .addOption(new Option('--target <url>', 'the emulator').default('https://127.0.0.1:8443'))
    .addOption(new Option('--control-token <secret>', 'its control token, when one is in force').env('KRAKEN_CONTROL_TOKEN'))
    .addOption(new Option('--ca <file>', 'the certificate (PEM) to trust for the target (default: certs/cert.pem when it exists)'))
    .addOption(new Option('--insecure', 'do not verify the target\'s certificate'))
    .addOption(new Option('--detach', 'start it and exit without following it'))
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: s => { help += s }, writeErr: s => { help += s } })
  const saved = process.env
  process.env = { ...env }
  try {
    program.parse(['node', 'scenario', ...argv])
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'commander.helpDisplayed') { out.write(help); return 0 }
    err.write(`kraken-emulator: ${help.trim().split('\n')[0]?.replace(/^error: /, '') ?? String(error)}\n`)
    return 2
  } finally {
    process.env = saved
  }
  const options = program.opts<{ target: string, controlToken?: string, ca?: string, insecure?: boolean, detach?: boolean }>()
  const what = program.args[0] ?? ''

  let body: { name: string } | { scenario: unknown }
  if (existsSync(what) || what.endsWith('.json')) {
    try {
      const document: unknown = JSON.parse(readFileSync(what, 'utf8'))
      // Checked here too, so a typo is told before anything is sent.
      parseScenario(document)
      body = { scenario: document }
    } catch (error) {
      err.write(`kraken-emulator: ${what}: ${describe(error)}\n`)
      return 2
    }
  } else if (new RegExp(SCENARIO_NAME).test(what)) {
    body = { name: what }
  } else {
    err.write(`kraken-emulator: ${what}: no such file, and not a scenario name\n`)
    return 2
  }

  let target: URL
  try {
    target = new URL('/_emulator/scenarios', options.target)
  } catch {
    err.write(`kraken-emulator: --target ${options.target} is not a URL\n`)
    return 2
  }
  const caFile = options.ca ?? (existsSync('certs/cert.pem') ? 'certs/cert.pem' : undefined)
  const client = new ControlClient(target, {
    ...(caFile !== undefined && { ca: readFileSync(caFile, 'utf8') }),
    insecure: options.insecure === true,
    ...(options.controlToken !== undefined && { token: options.controlToken })
  })

  const started = await client.send('POST', body).catch((error: unknown) => error as Error)
  if (started instanceof Error) { err.write(`kraken-emulator: ${started.message}\n`); return 1 }
  if (started.status !== 202) { err.write(`kraken-emulator: the emulator refused the scenario (${started.status}): ${envelope(started.body)}\n`); return 1 }
  const first = (started.body as Answer).status
  if (first === null) { err.write('kraken-emulator: the emulator started no scenario\n'); return 1 }
  out.write(`playing ${first.name}: ${first.steps} steps over ${formatAt(first.durationMs)} of the device clock\n`)
  if (options.detach === true) return 0

  const stop = (): void => {
    // Ctrl-C while following: the scenario this command started stops too.
    void client.send('DELETE').finally(() => process.exit(130))
  }
  process.once('SIGINT', stop)
  try {
    let shown = 0
    for (;;) {
      const res = await client.send('GET').catch((error: unknown) => error as Error)
      if (res instanceof Error) { err.write(`kraken-emulator: ${res.message}\n`); return 1 }
      const status = (res.body as Answer).status
      if (res.status !== 200 || status === null) { err.write(`kraken-emulator: GET ${target.pathname} answered ${res.status}: ${envelope(res.body)}\n`); return 1 }
      if (status.step > shown && status.last !== undefined && status.state !== 'failed') {
        out.write(`[${status.step}/${status.steps}] ${status.last}\n`)
        shown = status.step
      }
      if (status.state !== 'running') {
        if (status.state === 'finished') { out.write(`${status.name} finished\n`); return 0 }
        err.write(`kraken-emulator: ${status.name} ${status.state}${status.last === undefined ? '' : `: ${status.last}`}\n`)
        return 1
      }
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
    }
  } finally {
    process.removeListener('SIGINT', stop)
  }
}

function describe (error: unknown): string {
  if (error instanceof KrakenError && error.details.length > 0) return error.details.map(d => `${d.field} ${d.message}`).join('; ')
  return (error as Error).message
}

function envelope (body: unknown): string {
  const error = (body as { error?: { message?: string, details?: Array<{ field: string, message: string }> } } | undefined)?.error
  if (error === undefined) return JSON.stringify(body)
  const details = (error.details ?? []).map(d => `${d.field} ${d.message}`)
  return details.length > 1 ? details.join('; ') : error.message ?? ''
}

/** JSON requests to the control route, trusting the emulator's self-signed certificate when given. */
class ControlClient {
  constructor (private readonly url: URL, private readonly tls: { ca?: string, insecure: boolean, token?: string }) {}

  async send (method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<{ status: number, body: unknown }> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (payload !== undefined) headers['content-type'] = 'application/json'
    if (this.tls.token !== undefined) headers['x-kraken-control-token'] = this.tls.token
    const secure = this.url.protocol === 'https:'
    return await new Promise((resolve, reject) => {
      const options = { method, headers, ...(secure && { ca: this.tls.ca, rejectUnauthorized: !this.tls.insecure }) }
      const request = (secure ? https : http).request(this.url, options, response => {
        let text = ''
        response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) })
          } catch {
            reject(new Error(`${method} ${this.url.href} answered ${response.statusCode ?? '?'} with something other than JSON`))
          }
        })
        response.on('error', reject)
      })
      request.on('error', (error: NodeJS.ErrnoException) => {
        const untrusted = error.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || error.code === 'SELF_SIGNED_CERT_IN_CHAIN' || error.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
        reject(new Error(untrusted
          ? `the certificate of ${this.url.origin} is not trusted: give --ca <the emulator's cert.pem> (or --insecure)`
          : `cannot reach ${this.url.origin}: ${error.message}`))
      })
      request.end(payload)
    })
  }
}
