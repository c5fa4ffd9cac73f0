// Starts a server in a child process (so its memory and CPU are its own) and waits for the one
// JSON line it prints when ready: `{"url","port","fingerprint","pid"}` (the CLI's
// `--print-ready json`; bench/bare-server.ts and bench/naive-lowdb-server.ts print the same).
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface Ready { url: string, port: number, fingerprint?: string, pid: number }

export interface ServerProcess {
  ready: Ready
  child: ChildProcess
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr: () => string
  /** Resolves when the process has exited, with how. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
  stop: (graceMs?: number) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** SIGKILL and wait: a crash, as far as the server can tell. */
  kill: () => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export interface SpawnOptions {
  /** Script relative to the repository root, e.g. `src/cli.ts`. */
  entry: string
  args: readonly string[]
  /** `tsx` runs TypeScript sources; `none` runs JavaScript (dist/, bench/out/build/). Default tsx. */
  loader?: 'tsx' | 'none'
  /** Extra `--import` modules (a probe), after the loader. */
  imports?: readonly string[]
  /** Extra node flags (the soak's `--expose-gc`). */
  nodeFlags?: readonly string[]
  env?: Record<string, string>
  timeoutMs?: number
  /** Open an IPC channel (for a probe that reports from inside the server). */
  ipc?: boolean
}

/** Starts `node [--import tsx] [--import probe] <entry> <args>` in the repository root. */
export async function spawnServer (options: SpawnOptions): Promise<ServerProcess> {
  const loader = options.loader === 'none' ? [] : ['--import', 'tsx']
  const nodeArgs = [...(options.nodeFlags ?? []), ...loader, ...(options.imports ?? []).flatMap(m => ['--import', pathToFileURL(m).href]), options.entry, ...options.args]
  const child = spawn(process.execPath, nodeArgs, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc === true ? ['ipc' as const] : [])]
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const ready = await new Promise<Ready>((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${options.entry} not ready after ${options.timeoutMs ?? 60_000} ms; stderr: ${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      // Whole lines only: a fleet's ready line is long and may arrive in several chunks.
      const line = stdout.split('\n').slice(0, -1).find(l => l.trim().startsWith('{'))
      if (line === undefined) return
      clearTimeout(timer)
      try {
        resolve(JSON.parse(line) as Ready)
      } catch (error) {
        reject(new Error(`${options.entry} printed an unreadable ready line ${line}: ${(error as Error).message}`))
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`${options.entry} exited (code ${code}, signal ${signal}) before it was ready; stderr: ${stderr}`))
    })
  })
  const stop = async (graceMs = 30_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const how = await exited
    clearTimeout(timer)
    return how
  }
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return await exited
  }
  return { ready, child, stderr: () => stderr, exited, stop, kill }
}

export interface MemoryUse { rssMb: number, peakRssMb: number }

/** Current and peak resident memory of a process, from /proc (Linux). */
export async function memoryOf (pid: number): Promise<MemoryUse> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    if (match === null) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Number(match[1])
  }
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 }
}

/** The emulator's CLI arguments for a data file and a certificate directory. */
export function emulatorArgs (data: string, certs: string, extra: readonly string[] = []): string[] {
  return ['--port', '0', '--print-ready', 'json', '--data', data, '--certs', certs, '--log-level', 'warn', ...extra]
}
