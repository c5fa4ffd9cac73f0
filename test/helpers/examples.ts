// The documented examples: docs/test-fixture.md shows each file of examples/ verbatim after an
// `<!-- example: examples/<file> -->` marker. Shared by fixture-api.test.ts (source) and
// package.test.ts (the packed package).
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const DOC = 'docs/test-fixture.md'

export interface DocExample { file: string, code: string, line: number }

/** Every marked code block of the doc, with the file it claims to be. */
export function docExamples (markdown: string = readFileSync(ROOT + DOC, 'utf8')): DocExample[] {
  const lines = markdown.split('\n')
  const examples: DocExample[] = []
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- example: (\S+) -->$/.exec(lines[i] ?? '')
    if (marker?.[1] === undefined) continue
    if (!/^```\w*$/.test(lines[i + 1] ?? '')) throw new Error(`${DOC}:${i + 1}: the example marker must be followed by a code fence`)
    const end = lines.findIndex((line, j) => j > i + 1 && line === '```')
    if (end === -1) throw new Error(`${DOC}:${i + 1}: unclosed code fence`)
    examples.push({ file: marker[1], code: lines.slice(i + 2, end).join('\n') + '\n', line: i + 1 })
  }
  return examples
}

/** The files of examples/. */
export function exampleFiles (): string[] {
  return readdirSync(ROOT + 'examples').map(name => `examples/${name}`).sort()
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** Runs a command to completion (never through a shell), capturing its output. */
export async function run (command: string, args: readonly string[], options: { cwd: string, env?: NodeJS.ProcessEnv, timeoutMs?: number }): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000)
    child.once('error', error => { clearTimeout(timer); reject(error) })
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }) })
  })
}

/** Pass/fail counts from node:test's TAP summary (`# pass N`, `# fail N`). */
export function nodeTestCounts (stdout: string): { pass: number, fail: number } {
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1] ?? NaN)
  return { pass: count('pass'), fail: count('fail') }
}

/** Pass/fail counts from a tap file run directly (`# { total: N, pass: N }`). */
export function tapCounts (stdout: string): { pass: number, fail: number } {
  const summary = /^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/m.exec(stdout)
  return { pass: Number(summary?.[2] ?? NaN), fail: Number(summary?.[3] ?? 0) }
}
