// deploy/ (issue 19): the Compose fleet and the Kubernetes manifests. No cluster runs here: every
// manifest is validated against the Kubernetes API schemas (kubernetes-models), then checked for
// what schemas cannot see: selectors match the pod labels, serviceName names the Service, probe
// ports are container ports, the Secret is the README's, and the shards cover every device exactly
// once. `npm run test:container` runs the Compose file for real (test-container/compose.test.ts).
import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { parse, parseAllDocuments } from 'yaml'
import { StatefulSet } from 'kubernetes-models/apps/v1'
import { Service } from 'kubernetes-models/v1'
import { ROOT } from './helpers/examples.ts'
import { dockerfileFacts, optionVariables } from './helpers/deploy-facts.ts'

const image = dockerfileFacts()
const readme = readFileSync(ROOT + 'README.md', 'utf8')
const beyond = readme.slice(readme.indexOf('## Beyond one machine'), readme.indexOf('\n## ', readme.indexOf('## Beyond one machine') + 1))
const pkg = JSON.parse(readFileSync(ROOT + 'package.json', 'utf8')) as { name: string, version: string }
const published = `registry.example.com/team/${pkg.name}:${pkg.version}`
// The fleet's options (issue 18) come with its merge; until then their names cannot be checked here.
const FLEET = ['KRAKEN_DEVICES', 'KRAKEN_DEVICE_HOSTNAMES', 'KRAKEN_PASSWORD_HASH', 'KRAKEN_SHARD']
const variables = optionVariables()
const fleetMerged = variables.includes('KRAKEN_SHARD')

/** The block of devices shard `index` of `count` serves, of `n` (README "Beyond one machine"). */
export function shardBlock (index: number, count: number, n: number): [number, number] {
  const size = Math.ceil(n / count)
  return [index * size + 1, Math.min(n, (index + 1) * size)]
}

/** Checks that shards 0..count-1 of n devices are non-empty and cover 1..n exactly once. */
function coverage (t: Test, count: number, n: number): void {
  const served = new Map<number, number>()
  for (let k = 0; k < count; k++) {
    const [first, last] = shardBlock(k, count, n)
    t.ok(first <= last, `shard ${k}/${count} of ${n} serves devices ${first}-${last}`)
    for (let i = first; i <= last; i++) served.set(i, (served.get(i) ?? 0) + 1)
  }
  const wrong = Array.from({ length: n }, (_, i) => i + 1).filter(i => served.get(i) !== 1)
  t.same(wrong, [], `each of the ${n} devices is served exactly once`)
  t.same([...served.keys()].filter(i => i < 1 || i > n), [], 'and no device beyond them')
}

function checkVariables (t: Test, env: Record<string, string>): void {
  for (const name of Object.keys(env)) {
    if (!fleetMerged && FLEET.includes(name)) continue
    t.ok(variables.includes(name), `${name} is an option's variable`)
  }
  if (!fleetMerged) t.comment('the fleet options are not on this branch yet: their names are checked once it is merged')
}

t.test('the shard arithmetic itself: a count that leaves a shard empty is caught', async t => {
  t.same(shardBlock(0, 3, 12), [1, 4])
  t.same(shardBlock(2, 3, 12), [9, 12])
  t.same(shardBlock(3, 4, 10), [10, 10])
  const [first, last] = shardBlock(3, 4, 9)
  t.ok(first > last, '9 devices in 4 shards of 3: the fourth is empty, as the fleet refuses')
})

t.test('Compose: one container per shard, each with its own volume, together every device once', async t => {
  const compose = parse(readFileSync(ROOT + 'deploy/compose.yaml', 'utf8'), { merge: true }) as {
    services: Record<string, { image: string, environment: Record<string, string>, volumes: string[], ports: string[], read_only?: boolean, cap_drop?: string[] }>
    volumes: Record<string, unknown>
  }
  const services = Object.entries(compose.services)
  const shards = services.map(([name, s]) => ({ name, shard: /^(\d+)\/(\d+)$/.exec(s.environment.KRAKEN_SHARD ?? '') }))
  t.ok(shards.every(s => s.shard !== null), 'every service is a shard')
  const count = services.length
  t.same(shards.map(s => Number(s.shard?.[2])), Array(count).fill(count), `every KRAKEN_SHARD counts ${count} shards, one per service`)
  t.same(shards.map(s => Number(s.shard?.[1])).sort(), Array.from({ length: count }, (_, k) => k), 'indices 0..count-1, each once')
  const devices = new Set(services.map(([, s]) => s.environment.KRAKEN_DEVICES))
  t.equal(devices.size, 1, 'one fleet size')
  coverage(t, count, Number([...devices][0]))

  const volumes = services.map(([, s]) => s.volumes.find(v => v.endsWith(':/data'))?.split(':')[0])
  t.equal(new Set(volumes).size, count, 'a data volume of its own for each shard')
  t.same(Object.keys(compose.volumes).sort(), volumes.slice().sort(), 'each declared')
  const hostPorts = services.map(([, s]) => /:(\$\{[A-Z_0-9]+:-(\d+)\}):(\d+)$/.exec(s.ports[0] ?? ''))
  t.ok(hostPorts.every(p => Number(p?.[3]) === image.port), `each publishes the image's port ${image.port}`)
  t.equal(new Set(hostPorts.map(p => p?.[2])).size, count, 'on host ports of its own')
  for (const [name, s] of services) {
    t.match(s.image, new RegExp(`^\\$\\{KRAKEN_IMAGE:-${published.replaceAll('.', '\\.')}\\}$`), `${name}: the published image unless KRAKEN_IMAGE`)
    t.match(s.environment.KRAKEN_CONTROL_TOKEN, /^\$\{KRAKEN_CONTROL_TOKEN:\?/, `${name}: a control token is required`)
    t.equal(s.environment.KRAKEN_DATA, '/data/devices', `${name}: the fleet's data directory on the volume`)
    t.ok(s.read_only === true && s.cap_drop?.includes('ALL'), `${name}: read-only, no capability`)
    checkVariables(t, s.environment)
  }
  // What the README says of it.
  const stated = /(\d+) devices in (\d+) containers/.exec(beyond)
  t.same(stated?.slice(1).map(Number), [Number([...devices][0]), count], 'the README states the fleet and shard counts')
  for (const [k, [, s]] of services.entries()) {
    const [first, last] = shardBlock(k, count, Number([...devices][0]))
    const port = /:-(\d+)\}:\d+$/.exec(s.ports[0] ?? '')?.[1]
    t.ok(beyond.replace(/\s+/g, ' ').includes(`shard-${k} on host port ${port} (devices ${first}-${last})`), `the README's shard-${k}: port ${port}, devices ${first}-${last}`)
  }
  t.match(beyond, /docker compose -f deploy\/compose\.yaml up -d/)
  const connect = /--connect-to (\S+):443:127\.0\.0\.1:(\d+) -k https:\/\/(\S+?)\//.exec(beyond)
  const n = Number([...devices][0])
  const shardOf = (device: number): number => Math.floor((device - 1) / Math.ceil(n / count))
  const exampleDevice = Number(/^kraken-(\d+)\.lab$/.exec(connect?.[1] ?? '')?.[1])
  const [, exampleShard] = services[shardOf(exampleDevice)] ?? []
  t.equal(connect?.[3], connect?.[1], 'the README\'s curl example connects to the name it asks for')
  t.equal(connect?.[2], /:-(\d+)\}:\d+$/.exec(exampleShard?.ports[0] ?? '')?.[1], `and device ${exampleDevice} is on the port of the shard that serves it`)
})

interface Manifest { apiVersion: string, kind: string, metadata: { name: string, labels?: Record<string, string> }, spec: Record<string, unknown> }

const manifests: Manifest[] = readdirSync(ROOT + 'deploy/kubernetes').filter(f => f.endsWith('.yaml')).flatMap(file =>
  parseAllDocuments(readFileSync(ROOT + 'deploy/kubernetes/' + file, 'utf8')).map(doc => doc.toJS() as Manifest))

t.test('Kubernetes: every manifest is valid against the API schemas', async t => {
  t.same(manifests.map(m => m.kind).sort(), ['Service', 'StatefulSet'])
  for (const m of manifests) {
    const model = m.kind === 'StatefulSet' ? new StatefulSet(m as never) : new Service(m as never)
    t.doesNotThrow(() => { model.validate() }, `${m.kind} ${m.metadata.name}`)
  }
  const broken = structuredClone(manifests.find(m => m.kind === 'StatefulSet')!) as Manifest
  broken.spec.replicas = 'three'
  t.throws(() => { new StatefulSet(broken as never).validate() }, 'a wrong-typed field is refused')
})

t.test('Kubernetes: what the schemas cannot see', async t => {
  const set = manifests.find(m => m.kind === 'StatefulSet') as unknown as StatefulSet
  const service = manifests.find(m => m.kind === 'Service') as unknown as Service
  const spec = set.spec!
  const pod = spec.template
  const labels = pod.metadata?.labels ?? {}
  const sub = (want: Record<string, string> | undefined): boolean => Object.entries(want ?? {}).length > 0 && Object.entries(want ?? {}).every(([k, v]) => labels[k] === v)
  t.ok(sub(spec.selector.matchLabels), 'the StatefulSet selector matches the pod labels')
  t.ok(sub(service.spec?.selector), 'the Service selector matches the pod labels')
  t.equal(spec.serviceName, service.metadata?.name, 'serviceName names the Service')
  t.equal(service.spec?.clusterIP, 'None', 'a headless Service')

  const [container] = pod.spec!.containers
  t.equal(container?.image, published, 'the published image')
  const ports = container?.ports ?? []
  t.same(ports.map(p => p.containerPort), [image.port], `the container port is the image's ${image.port}`)
  const portOf = (p: number | string): number | undefined => typeof p === 'number' ? p : ports.find(q => q.name === p)?.containerPort
  for (const [kind, probe] of [['readiness', container?.readinessProbe], ['liveness', container?.livenessProbe]] as const) {
    t.equal(probe?.httpGet?.path, image.healthPath, `${kind} probe on the HEALTHCHECK's path`)
    t.equal(probe?.httpGet?.scheme, 'HTTPS', `${kind} probe over HTTPS`)
    t.equal(portOf(probe?.httpGet?.port ?? -1), image.port, `${kind} probe port is a container port`)
  }
  t.equal(portOf(service.spec?.ports?.[0]?.targetPort ?? -1), image.port, 'the Service targets a container port')

  const [uid, gid] = image.user.split(':').map(Number)
  t.match(pod.spec?.securityContext, { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid }, `non-root, as the image's USER ${image.user}`)
  t.match(container?.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })

  const env = Object.fromEntries((container?.env ?? []).map(e => [e.name, e]))
  const token = env.KRAKEN_CONTROL_TOKEN?.valueFrom?.secretKeyRef
  const created = /kubectl create secret generic (\S+) --from-literal=(\w+)=/.exec(beyond)
  t.same([token?.name, token?.key], created?.slice(1, 3), 'the control token comes from the Secret the README creates')
  t.match(beyond, /kubectl apply -f deploy\/kubernetes\//)
  const values = Object.fromEntries(Object.entries(env).filter(([, e]) => e.value !== undefined).map(([n, e]) => [n, e.value!]))
  checkVariables(t, values)
  const volume = (container?.volumeMounts ?? []).find(m => m.mountPath === '/data')
  t.ok(spec.volumeClaimTemplates?.some(c => c.metadata?.name === volume?.name), 'each pod has a volume claim of its own on /data')
  t.ok(values.KRAKEN_DATA?.startsWith('/data/') && values.KRAKEN_CERTS?.startsWith('/data/'), 'data and certificate on it (the root is read-only)')

  const shard = /^ordinal\/(\d+)$/.exec(values.KRAKEN_SHARD ?? '')
  t.ok(shard, 'the shard index is the pod ordinal')
  t.equal(Number(shard?.[1]), spec.replicas, 'one shard per replica')
  const n = Number(values.KRAKEN_DEVICES)
  coverage(t, spec.replicas ?? 1, n)
  t.same(/(\d+) devices in a StatefulSet of (\d+) pods/.exec(beyond)?.slice(1).map(Number), [n, spec.replicas], 'as the README says')
  const pattern = values.KRAKEN_DEVICE_HOSTNAMES ?? ''
  t.match(pattern, /\{i\}/, 'per-device hostnames')
  const example = /reaches device (\d+) \(shard (\d+)\) as `([^`]+)` at\s+`kraken-(\d+)\.kraken\./.exec(beyond)
  const device = Number(example?.[1])
  const [first, last] = shardBlock(Number(example?.[2]), spec.replicas ?? 1, n)
  t.ok(device >= first && device <= last && example?.[2] === example?.[4], 'the README\'s example device is on the pod it names')
  t.equal(example?.[3], pattern.replace('{i}', String(device)), 'under the hostname pattern')
})
