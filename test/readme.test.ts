import t from 'tap'
import { readFileSync } from 'node:fs'
import { expectedReadme } from '../scripts/readme-tables.ts'
import { docExamples, ROOT } from './helpers/examples.ts'
import { FULL_RUNS, QUICK_RUNS, fuzzRuns } from './helpers/fuzz-options.ts'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('the README starts with the two commands', async t => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  t.match(firstBlock, /^npm ci && npm start\b/m)
  t.match(firstBlock, /^npm ci && npm test\b/m)
})

t.test('the option and endpoint tables are generated from the app (npx tsx scripts/readme-tables.ts --write)', async t => {
  const expected = await expectedReadme()
  t.equal(readme, expected, 'README.md differs from what scripts/readme-tables.ts generates')
})

t.test('every example the README shows is an examples/ file, verbatim', async t => {
  const examples = docExamples(readme)
  t.ok(examples.length > 0, 'the README shows at least one checked example')
  for (const example of examples) {
    t.equal(example.code, readFileSync(ROOT + example.file, 'utf8'), `${example.file} at README line ${example.line}`)
  }
})

t.test('every script the README names exists in package.json', async t => {
  const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts
  for (const [, name] of readme.matchAll(/npm run ([a-z:-]+)/g)) t.ok(scripts[name!], `npm run ${name}`)
})

t.test('the README states the fuzz case counts the suite runs, by default and in CI', async t => {
  const stated = /send \*\*([\d,]+)\*\* generated\s+requests to every write endpoint by default and \*\*([\d,]+)\*\* when `CI=true`/.exec(readme)
  t.ok(stated, 'the Development section states both counts')
  t.same(stated?.slice(1).map(n => Number(n.replaceAll(',', ''))), [QUICK_RUNS, FULL_RUNS])
  t.ok(QUICK_RUNS < FULL_RUNS, 'the default is the smaller count')
  t.equal(fuzzRuns({}), QUICK_RUNS, 'a developer\'s run: the quick count')
  t.equal(fuzzRuns({ CI: 'true' }), FULL_RUNS, 'CI=true (.ci/run): the full count')
  t.equal(fuzzRuns({ CI: 'true', KRAKEN_FUZZ_RUNS: '5000' }), 5000, 'KRAKEN_FUZZ_RUNS wins')
})
