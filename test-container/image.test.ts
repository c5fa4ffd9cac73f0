// The image, built and run with podman (issue 19): it builds offline from the local base image,
// passes its own HEALTHCHECK, serves logins, runs as a numeric non-root user, keeps its data on a
// volume across a restart, makes no volume in memory mode, runs read-only with no capability, and
// stops on SIGTERM in under 2 s. Run by `npm run test:container` (scripts/test-container.mjs).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { run as runCommand } from '../test/helpers/examples.ts'
import { IMAGE, PREFIX, ROOT, Client, cleanUp, freePort, must, nodeImage, podman, published, waitHealthy } from './podman.ts'

t.setTimeout(1_500_000)
t.teardown(cleanUp)

const TOKEN = 'container-test-token'

const run = (name: string, args: string[], command: string[] = []): Promise<string> =>
  must(['run', '-d', '--name', `${PREFIX}-${name}`, '-p', '127.0.0.1::8443', '-e', `KRAKEN_CONTROL_TOKEN=${TOKEN}`, ...args, IMAGE, ...command])

t.test('the image builds offline from the local base image', async t => {
  const started = Date.now()
  const built = await podman(['build', '--pull=never', '--format', 'docker', '--build-arg', `NODE_IMAGE=${nodeImage()}`, '-t', IMAGE, ROOT], 1_200_000)
  if (built.code !== 0) t.comment(built.stdout.split('\n').slice(-20).join('\n') + built.stderr.split('\n').slice(-20).join('\n'))
  t.equal(built.code, 0, 'podman build --pull=never --format docker --build-arg NODE_IMAGE=...')
  if (built.code !== 0) return
  const bytes = Number(await must(['image', 'inspect', '--format', '{{.Size}}', IMAGE]))
  t.comment(`build: ${((Date.now() - started) / 1000).toFixed(0)} s, image ${(bytes / 1e6).toFixed(0)} MB (base ${nodeImage()})`)

  const config = JSON.parse(await must(['image', 'inspect', '--format', '{{json .Config}}', IMAGE])) as {
    User?: string, Volumes?: Record<string, unknown> | null, Env?: string[], Labels?: Record<string, string>
  }
  // podman 4.3 has the health check beside Config, not in it (and no template field for it).
  const [inspected] = JSON.parse(await must(['image', 'inspect', IMAGE])) as Array<{ Healthcheck?: { Test?: string[], Interval?: number } }>
  const health = inspected?.Healthcheck
  t.equal(config.User, '1000:1000', 'a numeric user and group')
  t.same(Object.keys(config.Volumes ?? {}), [], 'no VOLUME: no anonymous volume per container')
  t.ok(config.Env?.includes('NODE_ENV=production'), 'NODE_ENV=production')
  t.ok(config.Env?.includes('MALLOC_ARENA_MAX=2'), 'MALLOC_ARENA_MAX=2')
  t.match(health?.Test?.join(' '), /_emulator\/health/, 'the HEALTHCHECK survived the build (--format docker)')
  t.equal(health?.Interval, 5e9, 'probed every 5 s, so healthy soon after the start')
  t.equal(config.Labels?.['org.opencontainers.image.title'], 'kraken-emulator', 'OCI labels')
  t.equal(config.Labels?.['org.opencontainers.image.base.name'], nodeImage(), 'the base image it was built on')

  const shipped = await must(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', 'find /app/dist -name "*.map" -o -name "*.d.ts"; test -f /app/dist/cli.js && echo cli'])
  t.equal(shipped, 'cli', 'dist/cli.js, and no source map or type declaration')
})

t.test('healthy, serves a login, runs as a numeric non-root user', async t => {
  const name = `${PREFIX}-main`
  await run('main', ['-v', `${PREFIX}-data:/data`, '-v', `${PREFIX}-certs:/certs`])
  const runs = await waitHealthy(name)
  t.pass(`podman healthcheck run: healthy after ${runs} run(s)`)
  const client = await Client.of(name)
  t.teardown(() => client.close())
  t.equal(await client.login(), 204, 'login over HTTPS, verified against the certificate the container made')
  const status = await must(['exec', name, 'cat', '/proc/1/status'])
  t.match(status, /^Uid:\t1000\t1000\t1000\t1000$/m, 'the emulator (pid 1) runs as uid 1000')
  t.match(status, /^Gid:\t1000\t1000\t1000\t1000$/m, 'and gid 1000')
  t.match(await must(['exec', name, 'cat', '/proc/1/cmdline']), /^node\0\/app\/dist\/cli\.js/, 'pid 1 is the emulator itself, so it gets the SIGTERM')
})

t.test('the data survives a restart on a volume, and a new container on that volume', async t => {
  const name = `${PREFIX}-main`
  let client = await Client.of(name)
  t.equal(await client.login(), 204, 'login')
  const created = await client.call('POST', '/apis/v2/inputs', { body: { name: 'kept-input', protocol: 'ts_udp', url: 'udp://239.1.1.9:5000' } })
  t.equal(created.status, 201, `an input created (POST /apis/v2/inputs) ${created.status === 201 ? '' : created.body}`)
  await client.close()

  await must(['restart', '-t', '10', name])
  await waitHealthy(name)
  client = await Client.of(name)
  t.equal(await client.login(), 204, 'login')
  t.match((await client.call('GET', '/apis/v2/inputs')).body, /kept-input/, 'after podman restart')
  await client.close()

  await must(['rm', '-f', '-t', '10', name])
  const second = `${PREFIX}-second`
  await run('second', ['-v', `${PREFIX}-data:/data`, '-v', `${PREFIX}-certs:/certs`])
  await waitHealthy(second)
  client = await Client.of(second)
  t.teardown(() => client.close())
  t.equal(await client.login(), 204, 'login')
  t.match((await client.call('GET', '/apis/v2/inputs')).body, /kept-input/, 'in a new container on the same volume')
  const reset = await client.call('POST', '/_emulator/reset')
  t.equal(reset.status, 401, 'the control routes want the token')
  const withToken = await client.call('POST', '/_emulator/reset', { headers: { 'x-kraken-control-token': TOKEN } })
  t.equal(withToken.status, 200, 'and take it')
  t.notMatch((await client.call('GET', '/apis/v2/inputs')).body, /kept-input/, 'reset')
})

t.test('an in-memory container creates no volume', async t => {
  const before = await must(['volume', 'ls', '-q'])
  const name = `${PREFIX}-memory`
  await run('memory', ['-e', 'KRAKEN_IN_MEMORY=on'])
  await waitHealthy(name)
  const client = await Client.of(name)
  t.teardown(() => client.close())
  t.equal(await client.login(), 204, 'login')
  t.same(JSON.parse(await must(['inspect', '--format', '{{json .Mounts}}', name])), [], 'no mount at all')
  await must(['rm', '-f', '-t', '10', name])
  t.equal(await must(['volume', 'ls', '-q']), before, 'no volume created, none left behind')
})

t.test('--read-only --cap-drop=ALL works', async t => {
  const name = `${PREFIX}-locked`
  await run('locked', ['--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges',
    '-v', `${PREFIX}-locked-data:/data`, '-v', `${PREFIX}-locked-certs:/certs`])
  await waitHealthy(name)
  t.equal(await must(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', name]), 'true', 'a read-only root file system')
  t.match(await must(['exec', name, 'cat', '/proc/1/status']), /^CapEff:\t0000000000000000$/m, 'no effective capability')
  const client = await Client.of(name)
  t.teardown(() => client.close())
  t.equal(await client.login(), 204, 'login')
  const created = await client.call('POST', '/apis/v2/inputs', { body: { name: 'read-only-root', protocol: 'ts_udp', url: 'udp://239.1.1.8:5000' } })
  t.equal(created.status, 201, 'writes go to the data volume')
})

t.test('SIGTERM stops it in under 2 s, exit 0', async t => {
  const name = `${PREFIX}-second`
  const address = await published(name)
  t.ok(address, `running, published on ${address}`)
  const sent = Date.now()
  await must(['kill', '--signal', 'TERM', name])
  await must(['wait', name], 30_000)
  const state = JSON.parse(await must(['inspect', '--format', '{{json .State}}', name])) as { ExitCode: number, FinishedAt: string }
  t.equal(state.ExitCode, 0, 'a graceful exit, not a kill')
  const took = Date.parse(state.FinishedAt) - sent
  t.comment(`SIGTERM to exit: ${took} ms (the container's FinishedAt)`)
  t.ok(took < 2000, `stopped in ${took} ms`)
})

t.test('the README\'s Docker commands, verbatim, with docker played by podman', async t => {
  const readme = readFileSync(ROOT + 'README.md', 'utf8')
  const chapter = readme.slice(readme.indexOf('## Docker\n'))
  const block = /```sh\n([\s\S]*?)```/.exec(chapter)?.[1] ?? ''
  t.match(block, /^docker build -t kraken-emulator \.$/m, 'the chapter\'s first block builds and runs the image')
  const port = await freePort()
  const result = await runCommand('bash', ['-c', `source test-container/docker-shim.sh\n${block}`], {
    cwd: ROOT, timeoutMs: 900_000,
    env: { ...process.env, NAME: `${PREFIX}-readme`, TAG: `${IMAGE}-readme`, PORT: String(port), NODE_IMAGE: nodeImage() }
  })
  if (result.code !== 0) t.comment(result.stderr.split('\n').slice(-10).join('\n'))
  t.equal(result.code, 0, 'the block ran to its end')
  t.match(result.stdout, /^HTTP\/[\d.]+ 204/m, 'the login answers 204, over TLS verified against the container\'s certificate')
  t.match(result.stdout, /^set-cookie: id=/im, 'with the session cookie')
  await podman(['rmi', '-f', `${IMAGE}-readme`])
})
