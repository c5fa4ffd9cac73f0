// Facts the deploy and CI recipes must agree with, read from the project itself: the Dockerfile's
// environment, port, user and health check, and the option table's variables.
import { readFileSync } from 'node:fs'
import { loadConfig } from '../../src/config.ts'
import { ROOT } from './examples.ts'

export interface DockerfileFacts {
  /** The ENV the image sets (KRAKEN_* and NODE_ENV). */
  env: Record<string, string>
  port: number
  certs: string
  user: string
  /** The path the HEALTHCHECK asks. */
  healthPath: string
}

export function dockerfileFacts (dockerfile = readFileSync(ROOT + 'Dockerfile', 'utf8')): DockerfileFacts {
  const env = Object.fromEntries([...dockerfile.matchAll(/^\s*(?:ENV )?((?:KRAKEN|NODE)_[A-Z_]+)=(\S+)/gm)].map(m => [m[1]!, m[2]!]))
  const healthPath = /^HEALTHCHECK [\s\S]*?path: '([^']+)'/m.exec(dockerfile)?.[1]
  const user = /^USER (\S+)$/m.exec(dockerfile)?.[1]
  if (env.KRAKEN_PORT === undefined || env.KRAKEN_CERTS === undefined || healthPath === undefined || user === undefined) {
    throw new Error('the Dockerfile no longer sets KRAKEN_PORT, KRAKEN_CERTS, USER or a HEALTHCHECK path')
  }
  return { env, port: Number(env.KRAKEN_PORT), certs: env.KRAKEN_CERTS, user, healthPath }
}

/** Every KRAKEN_* variable the CLI reads, from its own --help. */
export function optionVariables (): string[] {
  const help = loadConfig(['--help'], {})
  if (help.kind !== 'exit') throw new Error('--help did not exit')
  return [...new Set([...help.output.replace(/\s+/g, ' ').matchAll(/env: (KRAKEN_[A-Z_]+)/g)].map(m => m[1]!))].sort()
}

/** The README code block after `<!-- ci: <name> -->`. */
export function recipe (readme: string, name: string): string {
  const match = new RegExp(`^<!-- ci: ${name} -->\\n\`\`\`yaml\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(readme)
  if (match?.[1] === undefined) throw new Error(`README.md has no <!-- ci: ${name} --> yaml block`)
  return match[1]
}
