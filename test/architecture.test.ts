// The shape of src/ (issue 12): no import cycle, and arrows that point down the layers the
// README's Design section lists. Type-only imports count. A new file must be given a layer here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { findCycles, moduleGraph, sourceFiles, type ModuleImport } from './helpers/module-graph.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Top to bottom. A module may import the modules of its own unit and of any layer below; units of
 * one layer do not import each other (a directory unit is everything under it).
 */
export const LAYERS: ReadonlyArray<{ layer: string, units: ReadonlyArray<readonly string[]> }> = [
  { layer: 'entry', units: [['src/index.ts', 'src/cli.ts', 'src/start-emulator.ts', 'src/start-fleet.ts', 'src/fleet-cli.ts', 'src/scenario-command.ts', 'src/license-mint.ts', 'src/subcommands.ts']] },
  { layer: 'tools', units: [['src/capture/']] },
  { layer: 'composition', units: [['src/app.ts', 'src/services.ts', 'src/fastify-types.ts', 'src/emulator-routes.ts', 'src/check-db.ts', 'src/seed.ts', 'src/control/', 'src/fleet/', 'src/ui/']] },
  { layer: 'features', units: [['src/resources/'], ['src/system/'], ['src/runtime/'], ['src/admin/']] },
  { layer: 'http', units: [['src/auth/'], ['src/plugins/']] },
  { layer: 'base', units: [['src/config.ts'], ['src/fixtures.ts'], ['src/tls/']] },
  { layer: 'migrations', units: [['src/migrations/']] },
  { layer: 'kernel', units: [['src/kernel/']] }
]

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
const builtins = new Set(builtinModules)

/** Where a file sits: its layer's rank (0 = top) and its unit, or undefined when no layer claims it. */
function placeOf (file: string): { rank: number, layer: string, unit: number } | undefined {
  for (const [rank, { layer, units }] of LAYERS.entries()) {
    const unit = units.findIndex(members => members.some(m => m.endsWith('/') ? file.startsWith(m) : file === m))
    if (unit !== -1) return { rank, layer, unit }
  }
  return undefined
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`). */
function packageOf (specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** Why `file` may not import `imp`, or undefined when it may. */
export function layerViolation (file: string, imp: ModuleImport): string | undefined {
  if (imp.file === undefined) {
    if (imp.specifier.startsWith('node:') || builtins.has(imp.specifier)) return undefined
    // Published code may use only what an install of the package brings along.
    return Object.hasOwn(pkg.dependencies, packageOf(imp.specifier)) ? undefined : `${imp.specifier} is no runtime dependency in package.json`
  }
  const from = placeOf(file)
  const to = placeOf(imp.file)
  if (from === undefined) return `${file} is in no layer (add it to LAYERS in test/architecture.test.ts and to the README's Design section)`
  if (to === undefined) return `${imp.file} is in no layer`
  if (to.rank > from.rank || (to.rank === from.rank && to.unit === from.unit)) return undefined
  return to.rank === from.rank
    ? `${file} imports ${imp.file}: units of the ${from.layer} layer do not import each other`
    : `${file} (${from.layer}) imports ${imp.file} (${to.layer}), a layer above it`
}

const graph = moduleGraph(ROOT, 'src')

t.test('src/ has no import cycle, type-only imports included', async t => {
  t.ok(graph.size > 50, `${graph.size} modules read`)
  const cycles = findCycles(graph)
  t.same(cycles.map(c => c.join(' -> ')), [], 'no cycle')
})

t.test('every import points down the layers (README, Design)', async t => {
  const violations = [...graph].flatMap(([file, imports]) => imports.flatMap(imp => layerViolation(file, imp) ?? []))
  t.same([...new Set(violations)], [], 'no import against the layers')
  t.same(sourceFiles(ROOT, 'src').filter(f => placeOf(f) === undefined), [], 'every module has a layer')
})

t.test('the kernel imports only Node built-ins, runtime dependencies and itself', async t => {
  const kernel = [...graph].filter(([file]) => file.startsWith('src/kernel/'))
  t.ok(kernel.length > 10, `${kernel.length} kernel modules`)
  const outside = kernel.flatMap(([file, imports]) => imports.filter(i => i.file !== undefined && !i.file.startsWith('src/kernel/')).map(i => `${file} -> ${i.specifier}`))
  t.same(outside, [], 'no import leaves src/kernel/')
})

t.test('the store is reached through src/kernel/store.ts alone', async t => {
  // Its implementation: every file store.ts leads to. Only the store's own files import those.
  const ENTRY = 'src/kernel/store.ts'
  const inside = new Set<string>()
  const visit = (file: string): void => {
    for (const { file: next } of graph.get(file) ?? []) {
      if (next === undefined || inside.has(next)) continue
      inside.add(next)
      visit(next)
    }
  }
  visit(ENTRY)
  t.ok(inside.size > 5, `${inside.size} files behind store.ts`)
  const bypass = [...graph].filter(([file]) => file !== ENTRY && !inside.has(file))
    .flatMap(([file, imports]) => imports.filter(i => i.file !== undefined && inside.has(i.file)).map(i => `${file} -> ${i.specifier}`))
  t.same(bypass, [], 'nothing else imports a file of the store but store.ts')
})

t.test('the kernel type-checks on its own: it leans on no type declared above it', async t => {
  // A global augmentation (say, of FastifyRequest in src/fastify-types.ts) is no import, so the
  // graph cannot see the kernel using it; a program of the kernel's files alone can.
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: d => { throw new Error(String(d.messageText)) } })
  if (config === undefined) throw new Error('tsconfig.json: not readable')
  const roots = sourceFiles(ROOT, 'src/kernel').map(f => path.join(ROOT, f))
  const program = ts.createProgram(roots, config.options)
  const outside = program.getSourceFiles().map(f => path.relative(ROOT, f.fileName)).filter(f => !f.startsWith('node_modules') && !f.startsWith('src/kernel/') && !f.startsWith('..'))
  t.same(outside, [], 'the program holds no project file outside src/kernel/')
  const problems = ts.getPreEmitDiagnostics(program).map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.file === undefined ? '' : ` (${path.relative(ROOT, d.file.fileName)})`))
  t.same(problems, [], 'no type error')
})
