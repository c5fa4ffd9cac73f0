// `npm run test:container` (issue 19) is not part of `npm test`, and on a machine with no container
// engine it says so plainly and succeeds, so a developer's or CI's run without podman is not red.
import t from 'tap'
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT, run } from './helpers/examples.ts'

t.test('without podman: a plain skip message, exit 0', async t => {
  const bin = await mkdtemp(join(tmpdir(), 'kraken-no-engine-'))
  t.teardown(() => rm(bin, { recursive: true, force: true }))
  await symlink(process.execPath, join(bin, 'node'))
  const result = await run(process.execPath, ['scripts/test-container.mjs'], { cwd: ROOT, env: { PATH: bin } })
  t.equal(result.code, 0)
  t.match(result.stdout, /^test:container: skipped, no container engine here \(podman not found\)\.$/m)
})

t.test('npm test does not run the container tests, npm run test:container does', async t => {
  const taprc = parse(await readFile(join(ROOT, '.taprc'), 'utf8')) as { include?: string[] }
  t.same(taprc.include, ['test/**/*.test.ts'], 'tap includes test/ only')
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts['test:container'], 'node scripts/test-container.mjs')
  t.match(await readFile(join(ROOT, 'scripts/test-container.mjs'), 'utf8'), /'test-container\/image\.test\.ts', 'test-container\/compose\.test\.ts'/)
})
