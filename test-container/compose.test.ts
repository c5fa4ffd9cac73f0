// deploy/compose.yaml, run with Debian's podman-compose (issue 19): the fleet comes up as one
// container per shard, each passes the image's health check, and a device of each shard (its
// first, its last) takes a login by name, on the port of its shard. Run by `npm run test:container`
// after image.test.ts, which builds the image this file runs.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { parse } from 'yaml'
import { run } from '../test/helpers/examples.ts'
import { IMAGE, PREFIX, ROOT, Client, cleanUp, freePort, must, podman, presentedCertificate, waitHealthy } from './podman.ts'

t.setTimeout(900_000)

const COMPOSE = 'deploy/compose.yaml'
const PROJECT = `${PREFIX}-fleet`
const TOKEN = 'compose-test-token'

if (await podmanCompose(['version']).then(r => r.code !== 0, () => true)) {
  t.plan(0, 'podman-compose is not installed')
} else if (!(await must(['image', 'exists', IMAGE]).then(() => true, () => false))) {
  t.plan(0, `no ${IMAGE}: run test-container/image.test.ts first (npm run test:container runs both)`)
} else if (!(await must(['run', '--rm', IMAGE, '--help'])).includes('--shard')) {
  t.plan(0, 'the image has no fleet (--shard): this test awaits the fleet (issue 18)')
} else {
  await fleet()
}

async function podmanCompose (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await run('podman-compose', ['-p', PROJECT, '-f', COMPOSE, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeoutMs: 300_000 })
}


async function fleet (): Promise<void> {
  const compose = parse(readFileSync(ROOT + COMPOSE, 'utf8'), { merge: true }) as { services: Record<string, { environment: Record<string, string> }> }
  const shards = Object.keys(compose.services)
  const env: NodeJS.ProcessEnv = { KRAKEN_IMAGE: IMAGE, KRAKEN_CONTROL_TOKEN: TOKEN, KRAKEN_BIND: '127.0.0.1' }
  const ports: number[] = []
  for (const k of shards.keys()) {
    ports.push(await freePort())
    env[`KRAKEN_SHARD_${k}_PORT`] = String(ports[k])
  }
  t.teardown(async () => {
    await podmanCompose(['down', '-t', '10'], env)
    await cleanUp()
    const volumes = (await must(['volume', 'ls', '--format', '{{.Name}}', '--filter', `name=^${PROJECT}`])).split('\n').filter(Boolean)
    if (volumes.length > 0) await must(['volume', 'rm', '-f', ...volumes])
  })

  t.test('podman-compose up: one healthy container per shard, each on a volume of its own', async t => {
    const up = await podmanCompose(['up', '-d'], env)
    t.equal(up.code, 0, `podman-compose up -d ${up.code === 0 ? '' : up.stdout + up.stderr}`)
    for (const service of shards) {
      const name = await containerOf(service)
      t.ok(await waitHealthy(name), `${service} (${name}) is healthy`)
      const mounts = JSON.parse(await must(['inspect', '--format', '{{json .Mounts}}', name])) as Array<{ Name?: string, Destination: string }>
      t.match(mounts, [{ Name: `${PROJECT}_${service}`, Destination: '/data' }], `${service}: its own volume on /data`)
    }
  })

  t.test('a device of each shard takes a login by name on its shard\'s port', async t => {
    for (const [k, service] of shards.entries()) {
      const environment = compose.services[service]!.environment
      const n = Number(environment.KRAKEN_DEVICES)
      const size = Math.ceil(n / shards.length)
      const first = k * size + 1
      const last = Math.min(n, (k + 1) * size)
      // The certificate the shard presents, checked against the fingerprint its ready line printed.
      const logs = await podman(['logs', await containerOf(service)])
      const announced = /certificate SHA-256: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(logs.stdout)?.[1]
      const nameOf = (device: number): string => (environment.KRAKEN_DEVICE_HOSTNAMES ?? '').replace('{i}', String(device))
      const presented = await presentedCertificate('127.0.0.1', ports[k]!, nameOf(first))
      t.equal(presented.fingerprint, announced, `${service}: the certificate is the one its ready line announced`)
      const ca = presented.pem
      for (const device of [first, last]) {
        const name = nameOf(device)
        const client = new Client(`https://127.0.0.1:${ports[k]}`, ca, name)
        t.equal(await client.login('haiadmin', 'krakenapi', { host: name }), 204, `${service}: device ${device} (${name}) logs in`)
        const fleet = await client.call('GET', '/_emulator/fleet', { headers: { host: name, 'x-kraken-control-token': TOKEN } })
        t.equal(fleet.status, 200, `${service}: GET /_emulator/fleet`)
        const listed = JSON.parse(fleet.body) as { total?: number, devices?: Array<{ number: number }> }
        t.equal(listed.total, n, 'of the whole fleet')
        t.same(listed.devices?.map(d => d.number), Array.from({ length: last - first + 1 }, (_, i) => first + i), `${service} serves devices ${first}-${last}`)
        await client.close()
      }
      // A device of another shard: this shard's certificate does not name it, and it is not served here.
      const other = k === 0 ? last + 1 : first - 1
      t.equal(new X509Certificate(ca).checkHost(nameOf(other)), undefined, `${service}: its certificate does not name device ${other}`)
      const insecure = new Agent({ connect: { rejectUnauthorized: false } })
      const res = await request(`https://127.0.0.1:${ports[k]}/apis/v2/login`, {
        method: 'POST', dispatcher: insecure, headers: { host: nameOf(other), 'content-type': 'application/json' }, body: JSON.stringify({ username: 'haiadmin', password: 'krakenapi' })
      })
      await res.body.dump()
      await insecure.close()
      t.equal(res.statusCode, 421, `${service} does not serve device ${other}, another shard's: 421 Misdirected Request`)
    }
  })
}

/** The container podman-compose made for a service. */
async function containerOf (service: string): Promise<string> {
  const names = (await must(['ps', '-a', '--format', '{{.Names}}', '--filter', `label=io.podman.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`])).split('\n').filter(Boolean)
  if (names.length !== 1) throw new Error(`${service}: expected one container of project ${PROJECT}, found ${names.join(', ') || 'none'}`)
  return names[0]!
}
