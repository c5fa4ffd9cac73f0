// The npm package and the Dockerfile (issue 6). `npm pack` builds the tarball; it is installed into
// an empty folder (from the local npm cache) and used as an integrator would: the CLI through npx
// with --print-ready json, the typed `import { startEmulator } from 'kraken-emulator'`, and the
// documented examples (node:test, inject, Python, shell) run verbatim against it.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { loadConfig } from '../src/config.ts'
import { startEmulator } from '../src/start-emulator.ts'
import { ROOT, nodeTestCounts, run } from './helpers/examples.ts'
import { startCli } from './helpers/cli-process.ts'
import { preparedPackage, type PackInfo } from './helpers/prepared.ts'

// npm pack compiles the whole project; on a busy 2-core machine that alone can take a minute.
t.setTimeout(600_000)

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>, name: string, version: string, description: string, license: string, bin: Record<string, string>, files: string[] }
const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8')
const pkgScripts = pkg.scripts
const dockerDoc = await readFile(join(ROOT, 'docs/docker.md'), 'utf8')

/** Every KRAKEN_* variable the CLI reads, from its own --help. */
function optionVariables (): string[] {
  const help = loadConfig(['--help'], {})
  if (help.kind !== 'exit') throw new Error('--help did not exit')
  return [...new Set([...help.output.replace(/\s+/g, ' ').matchAll(/env: (KRAKEN_[A-Z_]+)/g)].map(m => m[1]!))].sort()
}

t.test('the Dockerfile mirrors the install and start commands', async t => {
  const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1])
  t.same(stages, ['${NODE_IMAGE}', '${NODE_IMAGE}'], 'multi-stage, both on the one NODE_IMAGE argument')
  const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? ''
  t.match(base, /^node:22\.\d+\.\d+-slim(@sha256:[0-9a-f]{64})?$/, 'it defaults to a Node 22 slim version tag (a digest may pin it)')
  t.ok(dockerfile.indexOf('ARG NODE_IMAGE=') < dockerfile.indexOf('FROM '), 'declared before the first FROM, so both stages see it')
  t.notMatch(dockerfile, /^# syntax=/m, 'no syntax line: BuildKit would fetch a frontend from a registry')
  t.match(dockerfile, /^RUN npm ci --ignore-scripts/m, 'build stage: npm ci, as the README installs')
  t.match(dockerfile, /^RUN npm run build && find dist \\\( -name '\*\.map' -o -name '\*\.d\.ts' \\\) -delete$/m, 'build stage: the package\'s own build script, then no maps or declarations')
  for (const [, file] of (pkgScripts.build ?? '').matchAll(/node (scripts\/\S+)/g)) {
    t.match(dockerfile, new RegExp(`^COPY ${file} \\./${file}$`, 'm'), `the build stage has ${file}, which npm run build runs`)
  }
  t.match(await readFile(join(ROOT, 'README.md'), 'utf8'), /npm ci/, 'the README installs with npm ci too')
  t.match(dockerfile, /^RUN npm ci --omit=dev/m, 'runtime stage: production dependencies only')
  t.match(dockerfile, new RegExp(`^ENTRYPOINT \\["node", "/app/${pkg.bin['kraken-emulator']}"\\]$`, 'm'), 'starts the package\'s bin')
  for (const entry of pkg.files.filter(f => !f.startsWith('!') && f !== 'certs/README.md')) {
    t.match(dockerfile, new RegExp(`^COPY (--from=build /app/)?${entry} \\./${entry}$`, 'm'), `the image holds ${entry}, as the package does`)
  }
  const lines = dockerfile.split('\n')
  const user = lines.findIndex(l => /^USER /.test(l))
  t.equal(lines[user], 'USER 1000:1000', 'an unprivileged user, numeric (runAsNonRoot can verify it)')
  t.ok(user < lines.findIndex(l => l.startsWith('ENTRYPOINT')), 'set before the entrypoint')
  t.match(dockerfile, /^EXPOSE 8443$/m)
  t.notMatch(dockerfile, /^VOLUME/m, 'no VOLUME: it leaves an anonymous volume behind every container')
  t.match(dockerfile, /^ENV NODE_ENV=production /m)
  t.match(dockerfile, /^ {4}MALLOC_ARENA_MAX=2 \\$/m, 'the allocator setting the footprint issue chose')
  const labels = Object.fromEntries([...dockerfile.matchAll(/org\.opencontainers\.image\.(\w+(?:\.\w+)?)="([^"]*)"/g)].map(m => [m[1]!, m[2]!]))
  t.match(labels, { title: pkg.name, description: pkg.description, version: pkg.version, licenses: pkg.license, 'base.name': '${NODE_IMAGE}' }, 'OCI labels from package.json')
  t.match(dockerfile, /^STOPSIGNAL SIGTERM$/m)

  // Every COPY source must pass the allow-list of .dockerignore, or the build would fail.
  const allowed = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').filter(l => l.startsWith('!')).map(l => l.slice(1).replace(/\/$/, ''))
  for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const source of sources!.split(' ')) t.ok(allowed.includes(source.replace(/\/$/, '')), `.dockerignore lets ${source} into the build context`)
  }
  t.notOk(allowed.some(a => /certs|data|\.pem/.test(a)), 'no key or data file in the build context')
})

t.test('the image configuration: every option has its variable, the image values parse', async t => {
  const variables = optionVariables()
  t.ok(variables.length >= 20, `${variables.length} options`)
  for (const name of variables) {
    t.match(dockerfile, new RegExp(`\\b${name}\\b`), `the Dockerfile names ${name}`)
    t.match(dockerDoc, new RegExp(`\`${name}\``), `docs/docker.md lists ${name}`)
  }
  const env = Object.fromEntries([...dockerfile.matchAll(/(KRAKEN_[A-Z_]+)=(\S+)/g)].map(m => [m[1]!, m[2]!]))
  t.same(Object.keys(env).sort(), ['KRAKEN_CERTS', 'KRAKEN_DATA', 'KRAKEN_HOST', 'KRAKEN_PORT'])
  t.match(dockerfile, /^HEALTHCHECK --interval=5s /m, 'probed every 5 s: healthy about 5 s after the start, not 15')
  t.notMatch(dockerfile, /^HEALTHCHECK .*--start-interval/m, 'Docker 20.10 and podman 4.3 refuse --start-interval')
  const parsed = loadConfig([], env)
  t.equal(parsed.kind, 'config')
  if (parsed.kind === 'config') t.match(parsed.config, { host: '0.0.0.0', port: 8443, data: '/data/kraken.json', certs: '/certs' })
})

t.test('the HEALTHCHECK command tells a live emulator from a dead one', async t => {
  const command = /^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$/m.exec(dockerfile)?.[1]
  t.ok(command, 'an exec-form HEALTHCHECK')
  const argv = JSON.parse(command ?? '[]') as string[]
  t.equal(argv[0], 'node')
  t.match(argv.join(' '), /\/_emulator\/health/)
  const kraken = await startEmulator({ logLevel: 'silent' })
  const alive = await run(process.execPath, argv.slice(1), { cwd: ROOT, env: { ...process.env, KRAKEN_PORT: String(kraken.port) } })
  await kraken.close()
  t.equal(alive.code, 0, `healthy while it answers ${alive.stderr}`)
  const dead = await run(process.execPath, argv.slice(1), { cwd: ROOT, env: { ...process.env, KRAKEN_PORT: String(kraken.port) } })
  t.equal(dead.code, 1, 'unhealthy once it is gone')
})

t.test('npm pack, install into an empty folder, use it as an integrator would', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-package-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))

  // --- the tarball: the one `npm test` packed for this run (scripts/test.mjs), else packed here
  let prepared = preparedPackage()
  if (prepared === undefined) {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, timeoutMs: 480_000 })
    t.equal(packed.code, 0, `npm pack ${packed.stderr}`)
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as PackInfo[]
    prepared = { tarball: join(dir, info!.filename), info: info! }
  } else {
    t.comment(`the package npm test packed for this run: ${prepared.tarball}`)
  }
  const { info, tarball } = prepared
  const files = info.files.map(f => f.path)
  for (const needed of ['package.json', 'README.md', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/start-emulator.d.ts',
    'fixtures/default/fixture.json', 'fixtures/empty/fixture.json', 'scenarios/outage-recovery.json', 'scenarios/training-walkthrough.json', 'web/index.html', 'web/app.js', 'web/style.css', 'certs/README.md']) {
    t.ok(files.includes(needed), `packs ${needed}`)
  }
  const unwanted = files.filter(f => /^(test|src|examples|bench|scripts|data|docs|\.tap)\//.test(f) || /\.(pem|key|crt|map|tgz)$/.test(f) ||
    (f.startsWith('certs/') && f !== 'certs/README.md') || /\.(journal|lock)\b/.test(f) || f.includes('kraken.json'))
  t.same(unwanted, [], 'nothing from test/, no keys, no data files, no source maps')

  // --- installed into an empty folder, from the local npm cache when it has everything
  const app = join(dir, 'app')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'integrator-suite', private: true, type: 'module' }))
  let installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeoutMs: 240_000 })
  if (installed.code !== 0) {
    t.comment(`offline install failed, retrying with --prefer-offline: ${installed.stderr.split('\n')[0] ?? ''}`)
    installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeoutMs: 240_000 })
  }
  t.equal(installed.code, 0, `npm install ${installed.stderr}`)
  t.notMatch(installed.stderr, /install scripts/, 'no install-time script to approve')

  const version = await run('npx', ['kraken-emulator', '--version'], { cwd: app })
  t.equal(version.stdout.trim(), pkg.version, 'npx kraken-emulator --version')

  // --- the CLI on port 0, as a script starts it
  const cli = await startCli('npx', ['kraken-emulator', '--port', '0', '--print-ready', 'json'], { cwd: app, timeoutMs: 60_000 })
  t.teardown(() => { if (cli.child.exitCode === null) process.kill(cli.ready.pid, 'SIGKILL') })
  t.match(cli.ready, { url: /^https:\/\/127\.0\.0\.1:\d+$/, port: Number, fingerprint: /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, pid: Number })
  const ca = await readFile(join(app, 'certs', 'cert.pem'), 'utf8')
  t.equal(new X509Certificate(ca).fingerprint256, cli.ready.fingerprint, 'the fingerprint announced is the certificate served')
  const agent = new Agent({ connect: { ca } })
  t.teardown(() => agent.close())
  const login = await request(`${cli.ready.url}/apis/v2/login`, {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' })
  })
  await login.body.dump()
  t.equal(login.statusCode, 204, 'login')
  const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).find(c => c.startsWith('id='))?.split(';')[0] ?? ''
  const streams = await request(`${cli.ready.url}/apis/v2/streams`, { dispatcher: agent, headers: { cookie } })
  const list = (await streams.body.json() as { stream_list?: unknown[] }).stream_list
  t.equal(streams.statusCode, 200)
  t.ok(Array.isArray(list) && list.length > 0, 'stream_list from the packaged default fixture')
  for (const path of ['/apidoc', '/apidoc/static/swagger-ui-bundle.js']) {
    const res = await request(`${cli.ready.url}${path}`, { dispatcher: agent })
    await res.body.dump()
    t.equal(res.statusCode, 200, `${path} is served from the package`)
  }
  process.kill(cli.ready.pid, 'SIGTERM')
  t.equal(await cli.exited, 0, 'stops on SIGTERM, exit 0')

  // --- the typed import, checked by TypeScript as an integrator's strict project would
  await mkdir(join(app, 'node_modules', '@types'), { recursive: true })
  await symlink(join(ROOT, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'), 'dir')
  await writeFile(join(app, 'suite.ts'), [
    "import { startEmulator, buildApp, ManualClock, type EmulatorOptions, type RunningEmulator } from 'kraken-emulator'",
    "const options: EmulatorOptions = { port: 0, fixture: 'default', inMemory: true, transitionMs: 0, clock: new ManualClock() }",
    'const kraken: RunningEmulator = await startEmulator(options)',
    'const described: [string, number, string, string] = [kraken.url, kraken.port, kraken.certificate, kraken.fingerprint]',
    "await kraken.reset('empty')",
    'await kraken.close()',
    'const app = await buildApp({ inMemory: true })',
    "const res = await app.inject({ method: 'GET', url: '/_emulator/health' })",
    'export const checked = [described, res.statusCode]',
    ''
  ].join('\n'))
  const tsc = [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck']
  const typed = await run(process.execPath, [...tsc, 'suite.ts'], { cwd: app })
  t.equal(typed.code, 0, `the documented API type-checks: ${typed.stdout}`)
  await writeFile(join(app, 'wrong.ts'), "import { startEmulator } from 'kraken-emulator'\nawait startEmulator({ port: '8443' })\n")
  const wrong = await run(process.execPath, [...tsc, 'wrong.ts'], { cwd: app })
  t.match(wrong.stdout, /wrong\.ts\(2,\d+\): error TS2322/, 'and the types are real: a string port is refused')

  // --- the documented examples, verbatim, against the installed package
  await symlink(join(ROOT, 'node_modules', 'undici'), join(app, 'node_modules', 'undici'), 'dir')
  for (const example of ['node-test.example.mjs', 'inject.example.mjs', 'kraken_example_test.py', 'ci.example.sh']) {
    await copyFile(join(ROOT, 'examples', example), join(app, example))
  }
  const nodeTest = await run(process.execPath, ['--test', 'node-test.example.mjs', 'inject.example.mjs'], { cwd: app })
  t.equal(nodeTest.code, 0, nodeTest.stdout + nodeTest.stderr)
  t.same(nodeTestCounts(nodeTest.stdout), { pass: 3, fail: 0 }, 'node:test and inject examples')

  const python = await run('python3', ['-m', 'unittest', '-v', 'kraken_example_test'], { cwd: app })
  t.equal(python.code, 0, python.stderr)
  t.match(python.stderr, /Ran 3 tests[\s\S]*\nOK\n/, 'the Python example')

  const shell = await run('bash', ['ci.example.sh'], { cwd: app })
  t.equal(shell.code, 0, shell.stdout + shell.stderr)
  t.equal(shell.stdout.trim().split('\n').filter(l => l === 'true').length, 2, 'the shell example\'s two checks')
})
