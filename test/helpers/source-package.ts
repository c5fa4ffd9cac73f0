// Loaded with `node --import tsx --import ./test/helpers/source-package.ts <example>`: makes the
// examples' `import ... from 'kraken-emulator'` resolve to src/index.ts, so the doc examples run
// verbatim against the source without a build. The vitest and jest examples get a stand-in for
// their runner's API (runner-shim.ts): neither runner is a dependency of this project.
import { register } from 'node:module'

const targets: Record<string, string> = {
  'kraken-emulator': new URL('../../src/index.ts', import.meta.url).href,
  vitest: new URL('./runner-shim.ts', import.meta.url).href,
  '@jest/globals': new URL('./runner-shim.ts', import.meta.url).href
}

// A data: URL keeps the hook self-contained: the hooks thread loads it without tsx's help.
const hooks = `
const targets = ${JSON.stringify(targets)}
export async function resolve (specifier, context, next) {
  // Handed on (not short-circuited) so that tsx's resolver marks the .ts file for its loader.
  return next(targets[specifier] ?? specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hooks)}`)
