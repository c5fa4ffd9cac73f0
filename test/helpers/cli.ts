import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { Agent, request, type Dispatcher } from 'undici'
import { requireDeviceHeaders } from './device-headers.ts'
import { cliCommand } from './prepared.ts'

/** The repository root: the CLI runs from there so `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Ready { url: string, port: number, fingerprint: string, pid: number }

export interface CliRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir (t: { teardown: (fn: () => unknown) => void }, prefix = 'kraken-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function spawnCli (args: readonly string[], env: Record<string, string>, cwd = ROOT): ChildProcess {
  // Only the variables the test names reach the CLI (plus PATH/HOME), so a KRAKEN_* in the
  // developer's shell cannot change what a test sees.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  const [node, cli] = cliCommand()
  return spawn(node, [...cli, ...args], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs the CLI to its end (for --help and bad options). */
export function runCli (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawnCli(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

export interface RunningCli {
  child: ChildProcess
  /** The ready line: the first line of stdout that is not a log record. */
  line: string
  /** stdout and stderr so far. */
  output: () => { stdout: string, stderr: string }
  /** Resolves with the exit of the process. */
  exited: Promise<CliRun>
  /** Sends a signal and waits for the exit. */
  stop: (signal?: NodeJS.Signals) => Promise<CliRun>
}

/**
 * Starts the CLI and resolves once it printed its ready line (or rejects with its output when it
 * exits first). The process is killed when the test ends, whatever happened.
 */
export async function startCli (t: { teardown: (fn: () => unknown) => void }, args: readonly string[], env: Record<string, string> = {}, cwd = ROOT): Promise<RunningCli> {
  const child = spawnCli(args, env, cwd)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const line = await new Promise<string>((resolve, reject) => {
    const onData = (): void => {
      // In text mode the log shares stdout: the ready line is the first line that is not a JSON log record.
      const found = stdout.split('\n').slice(0, -1).find(l => !l.startsWith('{"level"'))
      if (found !== undefined) { child.stdout!.off('data', onData); resolve(found) }
    }
    child.stdout!.on('data', onData)
    void exited.then(run => reject(new Error(`the CLI exited (${run.code ?? run.signal}) before it was ready:\n${run.stdout}${run.stderr}`)))
  })
  return {
    child,
    line,
    output: () => ({ stdout, stderr }),
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      child.kill(signal)
      return exited
    }
  }
}

/** Starts the CLI with `--print-ready json` and returns the parsed ready line too. */
export async function startCliJson (t: { teardown: (fn: () => unknown) => void }, args: readonly string[], env: Record<string, string> = {}, cwd = ROOT): Promise<RunningCli & { ready: Ready }> {
  const cli = await startCli(t, ['--port', '0', '--print-ready', 'json', ...args], env, cwd)
  return { ...cli, ready: JSON.parse(cli.line) as Ready }
}

/** The SHA-256 fingerprint of the certificate a TLS server presents, as openssl prints it. */
export function wireFingerprint (port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fingerprint)
    })
    socket.once('error', reject)
  })
}

/** An undici client of a CLI-started emulator that trusts exactly `certificate` (PEM). */
export function clientOf (ready: Ready, certificate: string): { url: string, agent: Agent } {
  return { url: ready.url, agent: new Agent({ connect: { ca: certificate, servername: 'localhost' } }) }
}

/** One JSON request; throws when the answer lacks the device's Server and HSTS headers. */
export async function json (client: { url: string, agent: Dispatcher }, method: Dispatcher.HttpMethod, urlPath: string, options: { cookie?: string, body?: unknown } = {}): Promise<{ status: number, body: unknown }> {
  const headers: Record<string, string> = {}
  if (options.cookie !== undefined) headers.cookie = options.cookie
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await request(client.url + urlPath, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), dispatcher: client.agent })
  const text = await res.body.text()
  requireDeviceHeaders(res.headers, `${method} ${urlPath} -> ${res.statusCode}`)
  return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) as unknown }
}
