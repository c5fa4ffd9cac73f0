// How the bench and the soak start their servers. By default as production code: the emulator is
// compiled with the project's own build (tsconfig.build.json, as `npm ci` does) and run as plain
// `node <build>/dist/cli.js`; the bench's own servers are transpiled beside it. No process pays
// for a TypeScript loader (tsx adds a loader thread of about 35 MB and transpiles at start).
//
// The build goes to a private directory laid out like the repository (dist/ next to symlinks to
// fixtures/, package.json and node_modules/), never to the shared dist/, which other work in the
// same tree may be rebuilding or cleaning at any moment.
//
// `--tsx` runs the sources through tsx instead, for a tree that does not build yet.
import { execFile } from 'node:child_process'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import ts from 'typescript'
import { REPO_ROOT } from './spawn-server.ts'

export interface Launch { entry: string, loader: 'tsx' | 'none' }
export interface Launchers { emulator: Launch, bare: Launch, naive: Launch, jsonServer: Launch, probe: string }

const SOURCES = ['bare-auth.ts', 'bare-server.ts', 'naive-lowdb-server.ts', 'json-server-https.ts', 'first-start.ts', 'soak-probe.ts']

export async function prepareLaunchers (mode: 'dist' | 'tsx', buildDir: string): Promise<Launchers> {
  if (mode === 'tsx') {
    return {
      emulator: { entry: 'src/cli.ts', loader: 'tsx' },
      bare: { entry: 'bench/bare-server.ts', loader: 'tsx' },
      naive: { entry: 'bench/naive-lowdb-server.ts', loader: 'tsx' },
      jsonServer: { entry: 'bench/json-server-https.ts', loader: 'tsx' },
      probe: path.join(REPO_ROOT, 'bench', 'soak-probe.ts')
    }
  }
  await mkdir(path.join(buildDir, 'bench'), { recursive: true })
  // src/ finds fixtures/, web/ and package.json one level above itself (src/fixtures.ts, src/ui/, src/config.ts).
  for (const name of ['fixtures', 'web', 'package.json', 'node_modules']) await symlink(path.join(REPO_ROOT, name), path.join(buildDir, name))
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(buildDir, 'dist'), '--declaration', 'false', '--sourceMap', 'false'],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 })
    // The second step of `npm run build`: dist/cli.js as the bundle the package ships.
    await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle.mjs'), '--outdir', path.join(buildDir, 'dist')], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 })
  } catch (error) {
    const out = error as { stdout?: string, stderr?: string }
    throw new Error(`the build (tsconfig.build.json) failed, so the emulator cannot be measured as built; use --tsx to run the sources:\n${out.stdout ?? ''}${out.stderr ?? ''}`)
  }
  for (const name of SOURCES) {
    const source = await readFile(path.join(REPO_ROOT, 'bench', name), 'utf8')
    const { outputText } = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true }
    })
    await writeFile(path.join(buildDir, 'bench', name.replace(/\.ts$/, '.js')), outputText)
  }
  // ESM for the transpiled files, whatever the directory above says.
  await writeFile(path.join(buildDir, 'bench', 'package.json'), '{ "type": "module" }\n')
  return {
    emulator: { entry: path.join(buildDir, 'dist', 'cli.js'), loader: 'none' },
    bare: { entry: path.join(buildDir, 'bench', 'bare-server.js'), loader: 'none' },
    naive: { entry: path.join(buildDir, 'bench', 'naive-lowdb-server.js'), loader: 'none' },
    jsonServer: { entry: path.join(buildDir, 'bench', 'json-server-https.js'), loader: 'none' },
    probe: path.join(buildDir, 'bench', 'soak-probe.js')
  }
}
