// What `npm test` (scripts/test.mjs) prepares once per run, before any test file starts: the
// package packed by `npm pack`, whose prepack script builds dist/. Test files then use that build
// instead of each packing or transpiling their own. Run alone (`npx tap test/cli.test.ts`) they
// fall back to the sources through tsx, and the package test packs for itself.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** One entry of `npm pack --json`. */
export interface PackInfo { filename: string, files: Array<{ path: string }> }

/** The tarball scripts/test.mjs packed for this run, with what `npm pack --json` said of it. */
export function preparedPackage (): { tarball: string, info: PackInfo } | undefined {
  const file = process.env.KRAKEN_TEST_PACK_JSON
  if (file === undefined) return undefined
  const [info] = JSON.parse(readFileSync(file, 'utf8')) as PackInfo[]
  if (info === undefined) throw new Error(`${file} lists no package`)
  return { tarball: path.join(path.dirname(file), info.filename), info }
}

/** The built command line of this run (dist/cli.js), when scripts/test.mjs built one. */
export function preparedCli (): string | undefined {
  return process.env.KRAKEN_TEST_CLI
}

/** `node <args>` that starts the emulator's command line: the build of this run, else the sources. */
export function cliCommand (): [string, string[]] {
  const built = preparedCli()
  if (built !== undefined) return [process.execPath, [built]]
  return [process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src', 'cli.ts')]]
}
