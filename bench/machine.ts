// What the results were measured on, for the report.
import { execFileSync } from 'node:child_process'
import os from 'node:os'

export interface Machine { cpu: string, cores: number, memoryGb: number, os: string, node: string, loadAverage: number[] }

export function describeMachine (): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map(n => Math.round(n * 100) / 100)
  }
}

/** The commit measured, and whether the working tree differed from it. */
export function describeRevision (cwd: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head} with uncommitted changes` : head
  } catch (error) {
    // Not a git checkout (a tarball): say so rather than fail the run.
    return `unknown revision (${(error as Error).message.split('\n')[0]})`
  }
}
