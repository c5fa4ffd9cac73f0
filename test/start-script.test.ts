// `npm start` builds only when dist/ is stale, and machine use gets the JSON ready line alone on
// stdout (issue 20, first-hour friction). Run in a copy of the project, so the dist/ it builds is
// its own (package.test.ts removes and rebuilds the checkout's dist/).
import { cp, mkdtemp, readFile, rm, symlink, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, run } from './helpers/examples.ts'
import { startCli } from './helpers/cli-process.ts'

t.setTimeout(600_000)

t.test('npm start skips the build when dist/ is current; --silent and node dist/cli.js print only the JSON line', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-start-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // The sources and build setup, plus every folder the package ships beside dist/ (fixtures, web, ...).
  const shipped = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files
    .filter(entry => !entry.startsWith('!') && !entry.includes('/') && entry !== 'dist')
  for (const entry of ['src', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', ...shipped]) {
    await cp(join(ROOT, entry), join(dir, entry), { recursive: true })
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')

  const first = await run('npm', ['run', 'prestart', '--silent'], { cwd: dir, timeoutMs: 480_000 })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /building dist\//, 'the first start builds')
  const second = await run('npm', ['run', 'prestart', '--silent'], { cwd: dir })
  t.equal(second.code, 0, second.stderr)
  t.match(second.stderr, /dist\/ is current, not rebuilt/, 'the next one does not')
  t.equal(second.stdout, '', 'and says so on stderr only')

  // A changed source is built again.
  const later = new Date(Date.now() + 60_000)
  await utimes(join(dir, 'src', 'cli.ts'), later, later)
  const third = await run('npm', ['run', 'prestart', '--silent'], { cwd: dir, timeoutMs: 480_000 })
  t.match(third.stderr, /building dist\//, 'a changed source is rebuilt')

  const args = ['--port', '0', '--in-memory', '--print-ready', 'json']
  for (const [command, argv] of [['node', ['dist/cli.js', ...args]], ['npm', ['start', '--silent', '--', ...args]]] as const) {
    const cli = await startCli(command === 'node' ? process.execPath : command, [...argv], { cwd: dir, timeoutMs: 120_000 })
    t.match(cli.ready, { url: /^https:\/\/127\.0\.0\.1:\d+$/, port: Number, pid: Number }, `${command} ${argv.join(' ')}`)
    process.kill(cli.ready.pid, 'SIGTERM')
    t.equal(await cli.exited, 0)
    t.same(cli.stdoutLines.filter(l => l !== ''), [cli.stdoutLines[0]], `${command}: stdout holds the JSON line and nothing else`)
  }
})
