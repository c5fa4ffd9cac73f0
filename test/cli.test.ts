// The command line, run as a child process (kraken-api.md section 1; issue 2: CLI, certificates).
import { execFileSync } from 'node:child_process'
import { statfsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import t from 'tap'
import { SUBCOMMANDS } from '../src/subcommands.ts'
import { request } from 'undici'
import { buildApp } from '../src/app.ts'
import { defaults, loadConfig } from '../src/config.ts'
import { fingerprintOf, loadOrCreateCertificate } from '../src/tls/certificate.ts'
import { clientOf, json, runCli, startCli, startCliJson, tempDir, wireFingerprint } from './helpers/cli.ts'

const kebab = (name: string) => name.replace(/[A-Z]/g, c => '-' + c.toLowerCase())
const envName = (name: string) => 'KRAKEN_' + kebab(name).replace(/-/g, '_').toUpperCase()

t.test('--help documents every option with its environment variable', async t => {
  const run = await runCli(['--help'])
  t.equal(run.code, 0)
  t.equal(run.stderr, '')
  const help = run.stdout.replace(/\s+/g, ' ')
  for (const key of Object.keys(defaults)) {
    t.match(help, `--${kebab(key)}`, `--${kebab(key)} is documented`)
    t.match(help, envName(key), `${envName(key)} is documented`)
  }
  t.match(help, /-h, --help/)
  t.match(help, /--version/)
  // The tools beside the emulator: each named with its line, and each answers its own --help.
  for (const command of SUBCOMMANDS) {
    t.match(help, `${command.name} ${command.summary}`, `${command.name} is listed`)
    const own = await runCli([command.name, '--help'])
    t.equal(own.code, 0, `${command.name} --help`)
    t.match(own.stdout, `Usage: kraken-emulator ${command.name}`)
  }
})

const badValues: Array<[string, string[], Record<string, string>, RegExp]> = [
  ['a port that is not a number', ['--port', 'abc'], {}, /--port/],
  ['a port out of range', ['--port', '70000'], {}, /0 to 65535/],
  ['an unknown session id format', ['--session-id-format', 'jwt'], {}, /uuid, token/],
  ['a negative lockout', ['--lockout-attempts', '-1'], {}, /lockout-attempts/],
  ['an unknown log level', ['--log-level', 'loud'], {}, /log-level/],
  ['an unknown option', ['--prot', '8443'], {}, /--prot/],
  ['an extra argument', ['serve'], {}, /serve|argument/],
  ['a bad environment variable', [], { KRAKEN_PORT: 'eighty' }, /port/i],
  ['a bad on/off value', ['--password-policy', 'maybe'], {}, /on or off/],
  ['a bad boolean in the environment', [], { KRAKEN_IN_MEMORY: 'maybe' }, /KRAKEN_IN_MEMORY/],
  ['an empty value', ['--data', ''], {}, /non-empty/]
]

t.test('loadConfig refuses every bad value with status 2 and one line', async t => {
  for (const [what, args, env, pattern] of badValues) {
    const parsed = loadConfig(args, env)
    t.equal(parsed.kind, 'exit', what)
    if (parsed.kind !== 'exit') continue
    t.equal(parsed.code, 2, `${what}: status 2`)
    t.equal(parsed.output.trim().split('\n').length, 1, `${what}: one line`)
    t.match(parsed.output, pattern, `${what}: says what is wrong`)
  }
})

t.test('a boolean environment variable is read, not just noticed', async t => {
  const inMemory = (env: Record<string, string>, args: string[] = []) => {
    const parsed = loadConfig(args, env)
    return parsed.kind === 'config' ? parsed.config.inMemory : `exit ${parsed.code}`
  }
  t.equal(inMemory({}), false)
  t.equal(inMemory({ KRAKEN_IN_MEMORY: 'true' }), true)
  t.equal(inMemory({ KRAKEN_IN_MEMORY: 'on' }), true)
  t.equal(inMemory({ KRAKEN_IN_MEMORY: 'false' }), false, 'KRAKEN_IN_MEMORY=false means a data file')
  t.equal(inMemory({ KRAKEN_IN_MEMORY: '0' }), false)
  t.equal(inMemory({ KRAKEN_IN_MEMORY: '' }), false, 'empty is unset')
  t.equal(inMemory({ KRAKEN_IN_MEMORY: 'false' }, ['--in-memory']), true, 'the flag wins over the environment')
})

t.test('the CLI exits with status 2 and one clear line for a bad value', async t => {
  // Spawning is slow: three representative cases; loadConfig covers the rest above.
  const cases = badValues.filter(([what]) => ['a port out of range', 'an unknown option', 'a bad environment variable'].includes(what))
  const runs = await Promise.all(cases.map(([, args, env]) => runCli(args, env)))
  for (const [i, [what, , , pattern]] of cases.entries()) {
    const run = runs[i]!
    t.equal(run.code, 2, `${what}: status 2`)
    t.equal(run.stdout, '', `${what}: nothing on stdout`)
    const lines = run.stderr.split('\n').filter(l => l !== '')
    t.equal(lines.length, 1, `${what}: one line (${JSON.stringify(run.stderr)})`)
    t.match(lines[0], /^kraken-emulator: /, `${what}: names the program`)
    t.notMatch(lines[0], /^kraken-emulator: error:/, `${what}: no doubled prefix`)
    t.match(lines[0], pattern, `${what}: says what is wrong`)
    t.notMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`)
  }
})

t.test('ready: one line with the real URL, the login and the fingerprint; --port 0 works', async t => {
  const dir = await tempDir(t)
  const certs = path.join(dir, 'certs')
  const cli = await startCli(t, ['--port', '0', '--data', path.join(dir, 'kraken.json'), '--certs', certs])
  const match = /^kraken-emulator ready at (https:\/\/127\.0\.0\.1:(\d+))\/apis\/v2 {2}login: haiadmin \/ krakenapi {2}certificate SHA-256: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/.exec(cli.line)
  t.ok(match, `the ready line: ${cli.line}`)
  const port = Number(match?.[2])
  t.not(port, 0, 'the real port, not 0')
  t.equal(await wireFingerprint(port), match?.[3], 'the fingerprint printed is the one served')
  const certificate = await readFile(path.join(certs, 'cert.pem'), 'utf8')
  t.equal(fingerprintOf(certificate), match?.[3], 'and the one stored in --certs')
  const client = clientOf({ url: match![1]!, port, fingerprint: match![3]!, pid: 0 }, certificate)
  t.teardown(() => client.agent.close())
  t.equal((await json(client, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 204, 'the printed login works')
  t.notMatch(cli.output().stdout.split('\n').filter(l => !l.startsWith('{')).join('\n'), /\n./, 'no other plain line on stdout')
  const stopped = await cli.stop('SIGTERM')
  t.equal(stopped.code, 0, 'SIGTERM stops it cleanly')
})

t.test('options come from the environment too; a configured password is never printed', async t => {
  const dir = await tempDir(t)
  const secret = 'Sup3r-Secret-Passw0rd!'
  const cli = await startCli(t, [], {
    KRAKEN_PORT: '0', KRAKEN_IN_MEMORY: 'true', KRAKEN_CERTS: path.join(dir, 'certs'), KRAKEN_SESSION_ID_FORMAT: 'token', KRAKEN_ADMIN_PASSWORD: secret
  })
  t.match(cli.line, /login: haiadmin \/ \(the configured --admin-password\)/, 'the ready line does not show it')
  const port = Number(/:(\d+)\/apis\/v2/.exec(cli.line)?.[1])
  const client = clientOf({ url: `https://127.0.0.1:${port}`, port, fingerprint: '', pid: 0 }, await readFile(path.join(dir, 'certs', 'cert.pem'), 'utf8'))
  t.teardown(() => client.agent.close())
  t.equal((await json(client, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })).status, 401, 'the default password no longer works')
  const res = await request(`${client.url}/apis/v2/login`, { method: 'POST', dispatcher: client.agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'haiadmin', password: secret }) })
  await res.body.dump()
  t.equal(res.statusCode, 204, 'the configured one does')
  t.match(String(res.headers['set-cookie']), /id=[0-9A-Za-z]{40};/, 'KRAKEN_SESSION_ID_FORMAT=token took effect')
  await cli.stop()
  const { stdout, stderr } = cli.output()
  t.notMatch(stdout + stderr, secret, 'the password appears nowhere in the output')
})

t.test('the generated certificate is made once and served again on the next start', async t => {
  const dir = await tempDir(t)
  const args = ['--in-memory', '--certs', path.join(dir, 'certs')]
  const first = await startCliJson(t, args)
  t.same(Object.keys(first.ready).sort(), ['fingerprint', 'pid', 'port', 'schema', 'url'], '--print-ready json: {schema, url, port, fingerprint, pid}')
  t.equal((first.ready as unknown as { schema: number }).schema, 2, 'the ready line is schema 2')
  t.equal(first.ready.url, `https://127.0.0.1:${first.ready.port}`)
  t.equal(first.ready.pid, first.child.pid)
  const firstWire = await wireFingerprint(first.ready.port)
  t.equal(firstWire, first.ready.fingerprint, 'the announced fingerprint is the one served')
  const pem = await readFile(path.join(dir, 'certs', 'cert.pem'))
  const key = await readFile(path.join(dir, 'certs', 'key.pem'))
  await first.stop()
  t.equal(first.output().stdout, first.line + '\n', '--print-ready json: stdout is the ready line alone')
  const second = await startCliJson(t, args)
  t.equal(second.ready.fingerprint, first.ready.fingerprint, 'the same fingerprint is announced')
  t.equal(await wireFingerprint(second.ready.port), firstWire, 'and served on the wire')
  t.same(await readFile(path.join(dir, 'certs', 'cert.pem')), pem, 'cert.pem untouched')
  t.same(await readFile(path.join(dir, 'certs', 'key.pem')), key, 'key.pem untouched')
  await second.stop()
})

t.test('--cert/--key: the given certificate is served', async t => {
  const dir = await tempDir(t)
  // A pair made elsewhere (here by the emulator's own generator, in another directory).
  const own = await loadOrCreateCertificate({ certsDir: path.join(dir, 'mine'), hostname: 'kraken.test' })
  const certFile = path.join(dir, 'my-cert.pem')
  const keyFile = path.join(dir, 'my-key.pem')
  await writeFile(certFile, own.cert)
  await writeFile(keyFile, own.key, { mode: 0o600 })
  const unused = path.join(dir, 'unused-certs')
  const cli = await startCliJson(t, ['--in-memory', '--cert', certFile, '--key', keyFile, '--certs', unused])
  t.equal(cli.ready.fingerprint, own.fingerprint, 'the announced fingerprint is the given one')
  t.equal(await wireFingerprint(cli.ready.port), own.fingerprint, 'and the served one')
  const client = clientOf(cli.ready, own.cert)
  t.teardown(() => client.agent.close())
  t.equal((await json(client, 'GET', '/_emulator/health')).status, 200, 'a client trusting exactly that certificate connects')
  await t.rejects(readFile(path.join(unused, 'cert.pem')), 'nothing was generated')
})

t.test('--cert without --key, and a key that does not match, stop the start with one line', async t => {
  const dir = await tempDir(t)
  const a = await loadOrCreateCertificate({ certsDir: path.join(dir, 'a') })
  const b = await loadOrCreateCertificate({ certsDir: path.join(dir, 'b') })
  const cases = [
    ['--cert alone', ['--cert', a.certFile!]],
    ['a mismatched key', ['--cert', a.certFile!, '--key', b.keyFile!]],
    ['a missing file', ['--cert', path.join(dir, 'nope.pem'), '--key', a.keyFile!]]
  ] as const
  const runs = await Promise.all(cases.map(([, args]) => runCli(['--port', '0', '--in-memory', ...args])))
  for (const [i, [what]] of cases.entries()) {
    const run = runs[i]!
    t.equal(run.code, 2, `${what}: status 2`)
    t.equal(run.stderr.trim().split('\n').length, 1, `${what}: one line: ${run.stderr.trim()}`)
    t.notMatch(run.stderr, /\n\s+at |PRIVATE KEY/, `${what}: no stack, no key material`)
  }
})

t.test('a port in use stops the start with status 2 and one line', async t => {
  const dir = await tempDir(t)
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const port = (server.address() as net.AddressInfo).port
  const run = await runCli(['--port', String(port), '--in-memory', '--certs', path.join(dir, 'certs'), '--log-level', 'silent'])
  t.equal(run.code, 2)
  t.match(run.stderr, /^kraken-emulator: .*EADDRINUSE.*\n$/)
  t.equal(run.stderr.trim().split('\n').length, 1)
})

t.test('start-up file errors stop the start with status 2 and one line naming the file and the reason (issue 14)', async t => {
  const dir = await tempDir(t)
  const certs = path.join(dir, 'certs')
  const start = (data: string) => runCli(['--port', '0', '--data', data, '--certs', certs, '--log-level', 'silent'])
  const expectOneLine = (what: string, run: { code: number | null, stderr: string }, pattern: RegExp): void => {
    t.equal(run.code, 2, `${what}: status 2`)
    t.equal(run.stderr.trim().split('\n').length, 1, `${what}: one line: ${run.stderr.trim()}`)
    t.match(run.stderr, pattern, `${what}: names the file and the reason`)
    t.notMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`)
  }

  await writeFile(path.join(dir, 'plain'), 'a regular file')
  expectOneLine('a data path under a regular file', await start(path.join(dir, 'plain', 'data', 'kraken.json')),
    new RegExp(`^kraken-emulator: ${path.join(dir, 'plain', 'data')}: cannot create the data directory \\((ENOTDIR|EEXIST)`))

  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    t.comment('skipped the read-only and full file system cases: they need root on Linux to mount a tmpfs')
    return
  }
  const mounts: string[] = []
  t.teardown(() => { for (const mount of mounts) execFileSync('umount', [mount]) })
  const mount = async (name: string, options: string): Promise<string | undefined> => {
    const at = path.join(dir, name)
    await mkdir(at)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at], { stdio: 'pipe' })
    } catch (err) {
      t.comment(`skipped: cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`)
      return undefined
    }
    mounts.push(at)
    return at
  }

  const readOnly = await mount('ro', 'ro,size=1m')
  if (readOnly === undefined) return
  expectOneLine('a read-only file system with a missing directory', await start(path.join(readOnly, 'missing', 'kraken.json')),
    new RegExp(`^kraken-emulator: ${path.join(readOnly, 'missing')}: cannot create the data directory \\(EROFS`))

  // A crash left a journal, and the disk has no room for the snapshot recovery folds it into.
  const full = await mount('full', 'size=1m')
  if (full === undefined) return
  const data = path.join(full, 'kraken.json')
  const app = await buildApp({ ...defaults, inMemory: false, data, logLevel: 'silent', transitionMs: 0 })
  const store = app.kraken.store
  await store.commit([{ op: 'set', singleton: 'crash-test', value: { n: 1 } }])
  for (const name of await readdir(full)) if (!name.includes('.lock')) await copyFile(path.join(full, name), path.join(full, `crashed-${name}`))
  await app.close()
  await rm(data)
  const { bavail, bsize } = statfsSync(full)
  await writeFile(path.join(full, 'filler'), Buffer.alloc((bavail - 2) * bsize))
  const crashed = path.join(full, 'crashed-kraken.json')
  expectOneLine('no room for the recovery snapshot', await start(crashed),
    new RegExp(`^kraken-emulator: ${crashed}: cannot write the recovery snapshot \\(ENOSPC`))
  t.same((await readdir(full)).filter(name => /\.(lock|tmp)/.test(name)), [], 'no lock or temporary file left behind')
})
