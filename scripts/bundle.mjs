// The second step of the build (after tsc, which type-checks and writes the declarations):
// dist/cli.js and dist/index.js become esbuild bundles of src/ and its dependencies, so a cold
// start reads a few files instead of resolving and compiling ~700 modules (issue 23: about a
// third of the CLI's start-up CPU). tsc's other .js files stay beside them, unused.
//
//   node scripts/bundle.mjs [--outdir dist]
//
// Code shared by the two entries is split into `dist/bundle-*.js` chunks, which sit in dist/ itself: src/fixtures.ts and src/config.ts find fixtures/ and
// package.json one directory above the module that asks.
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const srcRoot = path.join(root, 'src')

/** Rewrites each source's package-relative URLs for a module that sits in dist/ (see above). */
const packagePaths = {
  name: 'package-paths',
  setup (build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, args => {
      const source = readFileSync(args.path, 'utf8')
      const contents = source.replace(/new URL\((['"])([^'"]+)\1, import\.meta\.url\)/g, (_match, quote, relative) => {
        const target = path.resolve(path.dirname(args.path), relative)
        const fromDist = path.relative(srcRoot, target).split(path.sep).join('/') + (relative.endsWith('/') ? '/' : '')
        return `new URL(${quote}${fromDist}${quote}, import.meta.url)`
      })
      return { contents, loader: 'ts' }
    })
  }
}
const args = process.argv.slice(2)
const at = args.indexOf('--outdir')
const outdir = path.resolve(root, at === -1 ? 'dist' : args[at + 1] ?? 'dist')

// Chunks are named by content hash: remove the previous build's so they do not pile up.
for (const name of readdirSync(outdir)) if (/^bundle-.*\.js(\.map)?$/.test(name)) rmSync(path.join(outdir, name))

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', index: 'src/index.ts' },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'bundle-[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [packagePaths],
  // Left as packages: swagger-ui serves files from its own directory, pino resolves its transport
  // workers by path, and the certificate libraries are imported lazily (only to generate or
  // parse one), by Node, whose CommonJS interop their named imports rely on.
  external: ['@fastify/swagger-ui', 'pino', 'selfsigned', '@peculiar/x509'],
  // The CommonJS dependencies inside the bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __krakenRequire } from 'node:module'; const require = __krakenRequire(import.meta.url);" }
})
