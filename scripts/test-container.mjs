#!/usr/bin/env node
// npm run test:container: builds the Dockerfile's image and runs it with podman (test-container/).
// Not part of `npm test`: it needs a container engine, and building the image takes minutes. Where
// no engine exists it says so and exits 0. On this project's machines, run
// ../shared/tools/node-base-image.sh first: it installs podman and builds the local base image.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const engine = spawnSync('podman', ['--version'], { encoding: 'utf8' })
if (engine.error !== undefined || engine.status !== 0) {
  console.log('test:container: skipped, no container engine here (podman not found).')
  console.log('  Install podman (on this project\'s machines: ../shared/tools/node-base-image.sh), then run it again.')
  process.exit(0)
}
console.log(`test:container: ${engine.stdout.trim()}`)

// In this order, one at a time: the image test builds the image the Compose test runs.
const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-container/image.test.ts', 'test-container/compose.test.ts']
let failed = 0
for (const file of files) {
  const code = await new Promise(resolve => {
    const tap = spawn('npx', ['tap', '--timeout=1800', file], { cwd: ROOT, stdio: 'inherit' })
    tap.once('error', error => { console.error(`${file}: ${error.message}`); resolve(1) })
    tap.once('close', resolve)
  })
  if (code !== 0) failed++
}
console.log(`\ntest:container: ${files.length - failed} of ${files.length} files passed`)
process.exit(failed > 0 ? 1 : 0)
