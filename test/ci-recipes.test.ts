// The README's CI recipes (issue 19): a GitHub Actions job and a GitLab CI job that run the
// emulator as a service container. Each is parsed as YAML, verbatim from the README, and checked
// against the project's real values: the image name and version, the container port, the health
// path of the image's HEALTHCHECK, and an environment the option table accepts.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { loadConfig } from '../src/config.ts'
import { ROOT } from './helpers/examples.ts'
import { dockerfileFacts, optionVariables, recipe } from './helpers/deploy-facts.ts'

const readme = readFileSync(ROOT + 'README.md', 'utf8')
const pkg = JSON.parse(readFileSync(ROOT + 'package.json', 'utf8')) as { name: string, version: string }
const image = dockerfileFacts()
const published = /^docker push (\S+)$/m.exec(readme)?.[1] ?? ''

/** Parses `env` as the container would: the image's ENV first, the recipe's on top. */
function containerConfig (env: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig([], { ...image.env, ...env })
}

t.test('the image the recipes use is the one the README builds and pushes', async t => {
  t.equal(published, `registry.example.com/team/${pkg.name}:${pkg.version}`, 'named after the package, tagged with its version')
  t.match(readme, new RegExp(`^docker build -t ${published.replaceAll('.', '\\.')} \\.$`, 'm'), 'built under that name')
})

t.test('GitHub Actions: service container, health wait, reset with the control token', async t => {
  const workflow = parse(recipe(readme, 'github')) as {
    jobs: Record<string, { services: Record<string, { image: string, ports: string[], env: Record<string, string>, options?: string }>, env: Record<string, string>, steps: Array<{ run?: string, env?: Record<string, string> }> }>
  }
  const job = Object.values(workflow.jobs)[0]!
  const [[alias, service]] = Object.entries(job.services) as [[string, typeof job.services[string]]]
  t.equal(service.image, published)
  t.same(service.ports, [`${image.port}:${image.port}`], 'the container port is the image\'s KRAKEN_PORT')
  const parsed = containerConfig(service.env)
  t.equal(parsed.kind, 'config', 'the service environment is valid configuration')
  if (parsed.kind === 'config') t.match(parsed.config, { inMemory: true, transitionMs: 0, host: '0.0.0.0', controlToken: String })
  for (const name of Object.keys(service.env)) t.ok(optionVariables().includes(name), `${name} is an option's variable`)
  t.notMatch(service.options ?? '', /--health-cmd/, 'the image\'s own health check is the one the runner waits for')
  t.match(service.options ?? '', /--health-interval \d+s/)

  t.equal(job.env.KRAKEN_CONTROL_TOKEN, service.env.KRAKEN_CONTROL_TOKEN, 'the tests have the service\'s control token')
  t.equal(job.env.KRAKEN_URL, `https://localhost:${image.port}`, 'and its published address')
  const script = job.steps.map(s => s.run ?? '').join('\n')
  t.match(script, new RegExp(`docker cp \\$\\{\\{ job\\.services\\.${alias}\\.id \\}\\}:${image.certs}/cert\\.pem`), 'the certificate, from the image\'s KRAKEN_CERTS')
  t.match(script, new RegExp(`"\\$KRAKEN_URL${image.healthPath}"`), 'waits on the HEALTHCHECK\'s path')
  t.match(script, /-X POST -H "X-Kraken-Control-Token: \$KRAKEN_CONTROL_TOKEN" "\$KRAKEN_URL\/_emulator\/reset"/, 'resets with the token')
  t.ok(job.steps.some(s => s.env?.NODE_EXTRA_CA_CERTS === 'kraken-ca.pem'), 'the tests trust that certificate')
})

t.test('GitLab CI: service with an alias, health wait, reset with the control token', async t => {
  const pipeline = parse(recipe(readme, 'gitlab')) as Record<string, { services: Array<{ name: string, alias: string }>, variables: Record<string, string>, script: string[] }>
  const job = Object.values(pipeline)[0]!
  const [service] = job.services
  t.equal(service?.name, published)
  const url = new URL(job.variables.KRAKEN_URL ?? '')
  t.equal(url.hostname, service?.alias, 'the tests reach the service by its alias')
  t.equal(Number(url.port), image.port, 'on the image\'s KRAKEN_PORT')
  const emulatorEnv = Object.fromEntries(Object.entries(job.variables).filter(([name]) => name !== 'KRAKEN_URL'))
  for (const name of Object.keys(emulatorEnv)) t.ok(optionVariables().includes(name), `${name} is an option's variable`)
  const parsed = containerConfig(emulatorEnv)
  t.equal(parsed.kind, 'config', 'the variables are valid configuration for the service')
  if (parsed.kind === 'config') t.match(parsed.config, { inMemory: true, transitionMs: 0, hostname: service?.alias, controlToken: String })
  t.ok(job.script.every(line => typeof line === 'string'), 'every script line is a string (a ": " unquoted would make it a mapping)')
  const script = job.script.join('\n')
  t.match(script, new RegExp(`"\\$KRAKEN_URL${image.healthPath}"`), 'waits on the HEALTHCHECK\'s path')
  t.match(script, new RegExp(`-connect ${service?.alias}:${image.port}`), 'takes the certificate from the service')
  t.match(script, /-X POST -H "X-Kraken-Control-Token: \$KRAKEN_CONTROL_TOKEN" "\$KRAKEN_URL\/_emulator\/reset"/, 'resets with the token')
})

t.test('a recipe that names another port or an unknown variable fails these checks', async t => {
  const broken = parse(recipe(readme, 'github').replace('- 8443:8443', '- 8443:443').replace('KRAKEN_TRANSITION_MS: "0"', 'KRAKEN_TRANSITON_MS: "0"')) as {
    jobs: Record<string, { services: Record<string, { ports: string[], env: Record<string, string> }> }>
  }
  const service = Object.values(Object.values(broken.jobs)[0]!.services)[0]!
  t.not(service.ports[0], `${image.port}:${image.port}`)
  t.notOk(Object.keys(service.env).every(name => optionVariables().includes(name)), 'a misspelt variable is caught')
})
