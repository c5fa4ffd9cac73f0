// The tap example as a user runs it (issue 20): in a project of its own, with the command its
// first line gives. A plain `npx tap` exits 1 there ("No coverage generated": the suite covers
// none of the project's own code), hence `--allow-empty-coverage` in that command.
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, run, tapCounts } from './helpers/examples.ts'

t.setTimeout(300_000)

t.test('examples/tap.example.mjs passes under the npx tap command it documents', async t => {
  const example = await readFile(join(ROOT, 'examples', 'tap.example.mjs'), 'utf8')
  const command = /run with `npx (tap[^`]*)`/.exec(example)?.[1]
  t.ok(command, 'the example says how to run it')
  const dir = await mkdtemp(join(tmpdir(), 'kraken-tap-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'test'))
  await mkdir(join(dir, 'node_modules'))
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'integrator-suite', private: true, type: 'module' }))
  await copyFile(join(ROOT, 'examples', 'tap.example.mjs'), join(dir, 'test', 'kraken.test.mjs'))
  for (const name of ['tap', 'undici']) await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir')
  // `kraken-emulator` resolves to this checkout's source, as in fixture-api.test.ts.
  const loaders = `--import ${import.meta.resolve('tsx')} --import ${join(ROOT, 'test', 'helpers', 'source-package.ts')}`
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^_?TAP/.test(name))), NODE_OPTIONS: loaders }
  const [bin, ...args] = (command ?? 'tap').split(' ')
  const result = await run(join(ROOT, 'node_modules', '.bin', bin!), args, { cwd: dir, env, timeoutMs: 240_000 })
  t.equal(result.code, 0, result.stdout.slice(-2000) + result.stderr.slice(-2000))
  t.equal(tapCounts(result.stdout).fail, 0)
  t.ok(tapCounts(result.stdout).pass >= 6, 'the assertions ran')
})
