// Installing before the package is published (issue 20): from a git URL, as the README says. A
// `git+file://` URL of this checkout's HEAD commit stands in for the remote; npm clones it, runs
// the `prepare` script (the build) and installs the result. The packed tarball is installed by
// package.test.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, run } from './helpers/examples.ts'
import { startCli } from './helpers/cli-process.ts'

t.setTimeout(900_000)

t.test('npm install git+file://<checkout>#<commit> gives a working kraken-emulator', async t => {
  const head = await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT })
  t.equal(head.code, 0, head.stderr)
  const commit = head.stdout.trim()
  const dir = await mkdtemp(join(tmpdir(), 'kraken-git-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const app = join(dir, 'app')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'integrator-suite', private: true, type: 'module' }))
  const url = `git+file://${ROOT.replace(/\/$/, '')}#${commit}`
  const installed = await run('npm', ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', url], { cwd: app, timeoutMs: 840_000 })
  t.equal(installed.code, 0, `npm install ${url}: ${installed.stderr}`)
  const version = await run('npx', ['kraken-emulator', '--version'], { cwd: app })
  t.match(version.stdout.trim(), /^\d+\.\d+\.\d+/, `npx kraken-emulator --version: ${version.stderr}`)
  const cli = await startCli('npx', ['kraken-emulator', '--port', '0', '--in-memory', '--print-ready', 'json'], { cwd: app, timeoutMs: 120_000 })
  t.match(cli.ready, { url: /^https:\/\/127\.0\.0\.1:\d+$/, port: Number, pid: Number }, 'the CLI starts')
  process.kill(cli.ready.pid, 'SIGTERM')
  t.equal(await cli.exited, 0)
  const imported = await run(process.execPath, ['--input-type=module', '-e', "const { startEmulator } = await import('kraken-emulator'); const k = await startEmulator(); console.log(k.port > 0); await k.close()"], { cwd: app })
  t.equal(imported.stdout.trim(), 'true', `import { startEmulator } works: ${imported.stderr}`)
})
