// The command line as a child process, the way a shell or Python suite drives it: started with
// --print-ready json, known by the JSON line it prints. Used by shutdown.test.ts and package.test.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

export interface ReadyLine { url: string, port: number, fingerprint: string, pid: number }

export interface CliProcess {
  child: ChildProcessWithoutNullStreams
  ready: ReadyLine
  /** Every stdout line, the ready line first. */
  stdoutLines: string[]
  stderr: () => string
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>
}

/** Spawns `command args`, resolving once the ready line arrives (rejecting if it exits first). */
export async function startCli (command: string, args: readonly string[], options: { cwd: string, env?: NodeJS.ProcessEnv, timeoutMs?: number }): Promise<CliProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = once(child, 'exit').then(([code, signal]) => (code as number | null) ?? String(signal))
  const stdoutLines: string[] = []
  const lines = createInterface({ input: child.stdout })
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.on('line', line => {
      stdoutLines.push(line)
      if (stdoutLines.length === 1) resolve(line)
    })
    void exited.then(code => reject(new Error(`exited (${code}) before its ready line; stderr: ${stderr}`)))
  })
  const timeoutMs = options.timeoutMs ?? 60_000
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs)
  })
  try {
    const line = await Promise.race([firstLine, timeout])
    return { child, ready: JSON.parse(line) as ReadyLine, stdoutLines, stderr: () => stderr, exited }
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  } finally {
    clearTimeout(timer)
  }
}
