// npm pack's prepack/postpack: the published package.json leaves out `prepare`. `prepare` exists
// for installs from a git URL (npm runs it in the clone to build dist/); a packed tarball already
// holds dist/, and npm 11 would ask every integrator to approve the script on install.
// `strip` keeps the original bytes beside it; `restore` puts them back exactly (no reformatting,
// no reordered keys). A pack that failed half-way is repaired by the next `strip`.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const manifest = fileURLToPath(new URL('../package.json', import.meta.url))
const saved = `${manifest}.before-pack`
const mode = process.argv[2]

if (mode === 'strip') {
  if (existsSync(saved)) renameSync(saved, manifest)
  const original = readFileSync(manifest, 'utf8')
  const pkg = JSON.parse(original)
  delete pkg.scripts.prepare
  writeFileSync(saved, original)
  writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n')
} else if (mode === 'restore') {
  if (existsSync(saved)) renameSync(saved, manifest)
} else {
  process.stderr.write('usage: node scripts/pack-manifest.mjs strip|restore\n')
  process.exit(2)
}
