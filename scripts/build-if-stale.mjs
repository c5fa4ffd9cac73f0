// `npm start`'s prestart: compiles src/ to dist/ only when a source or a tsconfig changed since the
// last build it made, so a start does not pay a full TypeScript build (~20 s on a busy machine)
// every time. Messages go to stderr: stdout is the emulator's (its --print-ready json line).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const stamp = join(root, 'dist', '.build-stamp')

function newestMtime (path) {
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  return Math.max(info.mtimeMs, ...readdirSync(path).map(name => newestMtime(join(path, name))))
}

function mtimeOrZero (path) {
  try {
    return statSync(path).mtimeMs
  } catch (error) {
    if (error.code === 'ENOENT') return 0
    throw error
  }
}

const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/bundle.mjs'].map(p => join(root, p))
const built = Math.min(mtimeOrZero(stamp), mtimeOrZero(join(root, 'dist', 'cli.js')))
if (built > 0 && inputs.every(p => newestMtime(p) <= built)) {
  process.stderr.write('kraken-emulator: dist/ is current, not rebuilt\n')
  process.exit(0)
}
process.stderr.write('kraken-emulator: building dist/ (npm run build)\n')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] })
if (result.status !== 0) process.exit(result.status ?? 1)
const bundled = spawnSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: ['ignore', 2, 2] })
if (bundled.status !== 0) process.exit(bundled.status ?? 1)
// Written last: a build that failed half-way leaves the old (or no) stamp, so the next start builds.
writeFileSync(stamp, `${new Date().toISOString()}\n`)
