// Prints the README's generated tables (endpoints with their roles, and the command-line options)
// from the app itself, so the manual cannot drift from the code: test/readme.test.ts fails when
// README.md differs from this output. Run `npx tsx scripts/readme-tables.ts --write` to update it.
import { readFileSync, writeFileSync } from 'node:fs'
import { buildApp } from '../src/app.ts'
import { optionTable } from '../src/config.ts'
import type { RouteInfo } from '../src/plugins/route-index.ts'

const README = new URL('../README.md', import.meta.url)

function who (route: RouteInfo): string {
  if (route.access === 'open') return 'anyone (open)'
  if (route.access === 'control') return 'control (same origin; the control token when set)'
  if (route.roles === undefined || route.roles.length === 3) return 'all roles'
  return route.roles.join(', ')
}

export async function endpointTable (): Promise<string> {
  const app = await buildApp({ inMemory: true, logLevel: 'silent' })
  await app.ready()
  const rows = app.kraken.routes.routes
    .filter(r => !r.hidden && r.method !== 'HEAD')
    .map(r => `| \`${r.method}\` | \`${r.url.replace(/:(\w+)/g, '{$1}')}\` | ${who(r)} | ${r.summary ?? ''} |`)
  await app.close()
  return ['| method | path | who may call it | what it does |', '|---|---|---|---|', ...rows].join('\n')
}

export function cliTable (): string {
  const rows = optionTable().map(o => `| \`${o.flags}\` | \`${o.env}\` | ${o.defaultValue} | ${o.description} |`)
  return ['| option | environment variable | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

/** README.md with the text between `<!-- name:start -->` and `<!-- name:end -->` replaced. */
export function withSection (readme: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const i = readme.indexOf(start)
  const j = readme.indexOf(end)
  if (i === -1 || j === -1) throw new Error(`README.md has no ${start} ... ${end} section`)
  return readme.slice(0, i + start.length) + '\n' + body + '\n' + readme.slice(j)
}

export async function expectedReadme (): Promise<string> {
  let readme = readFileSync(README, 'utf8')
  readme = withSection(readme, 'endpoints', await endpointTable())
  readme = withSection(readme, 'cli', cliTable())
  return readme
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const readme = await expectedReadme()
  if (process.argv.includes('--write')) writeFileSync(README, readme)
  else process.stdout.write(readme)
}
