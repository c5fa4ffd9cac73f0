// The guard model (issue 10): every route declares its access where it is registered, an
// undeclared route is guarded, and the control routes refuse other origins and, when a token is
// set, callers without it.
import t from 'tap'
import { loadConfig } from '../src/config.ts'
import { makeApp, login, call } from './helpers/app.ts'
import { startHttps, send } from './helpers/https.ts'
import { startCli, startCliJson, tempDir } from './helpers/cli.ts'
import { Agent, request } from 'undici'

t.test('a route registered without an access declaration needs a session', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  // Added after the app is built, as a later feature would be, with no `config.access`.
  app.get('/_emulator/added-later', async () => ({ secret: 'shown' }))
  app.post('/apis/v2/added-later', async () => ({ secret: 'shown' }))
  app.get('/elsewhere', { config: { roles: ['Administrator'] } }, async () => ({ secret: 'shown' }))
  app.get('/declared-open', { config: { access: 'open' } }, async () => ({ open: true }))
  for (const [method, url] of [['GET', '/_emulator/added-later'], ['POST', '/apis/v2/added-later'], ['GET', '/elsewhere']] as const) {
    const res = await call(app, undefined, method, url)
    t.equal(res.statusCode, 401, `${method} ${url} without a session -> 401`)
    t.equal(res.json<{ error: { type: string } }>().error.type, 'SessionAuthentication')
  }
  const viewer = await login(app, 'user')
  t.equal((await call(app, viewer, 'GET', '/_emulator/added-later')).statusCode, 200, 'with a session the undeclared route works')
  t.equal((await call(app, viewer, 'GET', '/elsewhere')).statusCode, 403, 'its roles apply too')
  t.equal((await call(app, undefined, 'GET', '/declared-open')).statusCode, 200, 'a route declared open is open')
  const route = app.kraken.routes.routes.find(r => r.url === '/_emulator/added-later')
  t.equal(route?.access, 'session', 'the route table lists it as session')
})

t.test('the documentation is open, each of its routes by declaration', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const docs = app.kraken.routes.routes.filter(r => r.url.startsWith('/apidoc') || r.url === '/docs')
  t.ok(docs.length >= 6, `${docs.length} documentation routes`)
  t.same(docs.filter(r => r.access !== 'open').map(r => r.url), [], 'every documentation route is declared open')
  for (const url of ['/apidoc/json', '/apidoc/yaml', '/apidoc/static/index.html', '/apidoc']) {
    const res = await app.inject({ method: 'GET', url })
    t.ok(res.statusCode === 200 || res.statusCode === 302, `GET ${url} without a session -> ${res.statusCode}`)
  }
})

t.test('control routes refuse another origin, on loopback too', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  t.equal(app.kraken.control.token, undefined, 'on loopback no token is needed by default')
  const reset = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/_emulator/reset', headers: { host: '127.0.0.1:8443', ...headers } })
  const cases: Array<[string, Record<string, string>, number]> = [
    ['no Origin (curl, a CI script)', {}, 200],
    ['the same origin', { origin: 'http://127.0.0.1:8443' }, 200],
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }, 200],
    ['Sec-Fetch-Site: none (typed in the address bar)', { 'sec-fetch-site': 'none' }, 200],
    ['another origin', { origin: 'https://evil.example' }, 403],
    ['another port of the same host', { origin: 'http://127.0.0.1:9999' }, 403],
    ['an opaque origin', { origin: 'null' }, 403],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, 403],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }, 403]
  ]
  for (const [label, headers, status] of cases) {
    const res = await reset(headers)
    t.equal(res.statusCode, status, `${label} -> ${status}`)
    if (status === 403) {
      t.equal(res.json<{ error: { type: string } }>().error.type, 'ControlAuthorization', `${label}: in the envelope`)
    }
  }
  // The page's "simple" request: text/plain body, another origin. Refused before the body is read.
  const simple = await app.inject({ method: 'POST', url: '/_emulator/reset', headers: { host: '127.0.0.1:8443', origin: 'https://evil.example', 'content-type': 'text/plain' }, payload: 'x' })
  t.equal(simple.statusCode, 403, 'a cross-origin form post is refused')
  t.equal((await app.inject({ method: 'GET', url: '/_emulator/health', headers: { origin: 'https://evil.example' } })).statusCode, 200, 'health stays open')
})

t.test('a cross-origin reset does not end sessions (over HTTPS)', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await (await import('./helpers/https.ts')).loginHttps(emu)
  const res = await send(emu, 'POST', '/_emulator/reset', { headers: { origin: 'https://trainee-page.example', 'content-type': 'text/plain' }, body: '' })
  t.equal(res.status, 403, 'refused')
  t.equal(res.headers.server, 'nginx', 'with the device headers')
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie })).status, 200, 'the session lives on')
})

t.test('the control token: required when set, in the header, compared exactly', async t => {
  const emu = await startHttps({ controlToken: 'classroom-secret' })
  t.teardown(() => emu.close())
  t.equal(emu.controlToken, 'classroom-secret', 'startEmulator() knows its token')
  const cookie = await (await import('./helpers/https.ts')).loginHttps(emu)
  for (const [label, headers] of [
    ['no token', {}],
    ['a wrong token', { 'x-kraken-control-token': 'classroom-secreT' }],
    ['a longer token', { 'x-kraken-control-token': 'classroom-secret2' }],
    ['the token in another header', { authorization: 'Bearer classroom-secret' }]
  ] as const) {
    const res = await send(emu, 'POST', '/_emulator/reset', { headers })
    t.equal(res.status, 401, `${label} -> 401`)
    t.equal((res.json() as { error: { type: string } }).error.type, 'ControlAuthentication', `${label}: in the envelope`)
  }
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie })).status, 200, 'no refused reset ended the session')
  const ok = await send(emu, 'POST', '/_emulator/reset', { headers: { 'x-kraken-control-token': 'classroom-secret' } })
  t.equal(ok.status, 200, 'the right token resets')
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie })).status, 401, 'and the reset ended the session')
  t.equal((await send(emu, 'GET', '/_emulator/health')).status, 200, 'health needs no token')
  // The in-process handle needs no token: it is the owner of the process.
  await emu.reset()
  t.pass('reset() works on a token-protected emulator')
})

t.test('the control token from the command line and the environment', async t => {
  const fromFlag = loadConfig(['--control-token', 'abc'], {})
  const fromEnv = loadConfig([], { KRAKEN_CONTROL_TOKEN: 'from-env' })
  t.equal(fromFlag.kind === 'config' && fromFlag.config.controlToken, 'abc', '--control-token')
  t.equal(fromEnv.kind === 'config' && fromEnv.config.controlToken, 'from-env', 'KRAKEN_CONTROL_TOKEN')
  const empty = loadConfig(['--control-token', ' '], {})
  t.equal(empty.kind, 'exit', 'an empty token is refused')
})

t.test('off loopback: the CLI generates a token, prints it in the ready line and requires it', async t => {
  const dir = await tempDir(t)
  const cli = await startCliJson(t, ['--host', '0.0.0.0', '--in-memory', '--certs', dir, '--log-level', 'silent'])
  const ready = cli.ready as typeof cli.ready & { controlToken?: string }
  t.match(ready.controlToken, /^[A-Za-z0-9_-]{32}$/, 'the JSON ready line carries the generated token')
  const agent = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => agent.close())
  const url = `https://127.0.0.1:${ready.port}/_emulator/reset`
  const without = await request(url, { method: 'POST', dispatcher: agent })
  await without.body.dump()
  t.equal(without.statusCode, 401, 'without the token: 401')
  const withToken = await request(url, { method: 'POST', dispatcher: agent, headers: { 'x-kraken-control-token': ready.controlToken ?? '' } })
  await withToken.body.dump()
  t.equal(withToken.statusCode, 200, 'with the printed token: 200')
  const health = await request(`https://127.0.0.1:${ready.port}/_emulator/health`, { dispatcher: agent })
  await health.body.dump()
  t.equal(health.statusCode, 200, 'health stays open (the container HEALTHCHECK)')
})

t.test('the text ready line shows a generated token; a configured one and `off` are never printed', async t => {
  const dir = await tempDir(t)
  const generated = await startCli(t, ['--host', '0.0.0.0', '--port', '0', '--in-memory', '--certs', dir, '--log-level', 'silent'])
  t.match(generated.line, /control token: [A-Za-z0-9_-]{32}$/, 'text ready line')
  await generated.stop()

  const configured = await startCli(t, ['--host', '0.0.0.0', '--port', '0', '--in-memory', '--certs', dir, '--log-level', 'silent'], { KRAKEN_CONTROL_TOKEN: 'do-not-print-me' })
  t.notMatch(configured.line, /control token/, 'a configured token is not printed')
  const run = await configured.stop()
  t.notOk(run.stdout.includes('do-not-print-me') || run.stderr.includes('do-not-print-me'), 'nor anywhere else')

  const off = await startCli(t, ['--host', '0.0.0.0', '--port', '0', '--in-memory', '--certs', dir, '--log-level', 'silent', '--control-token', 'off'])
  t.notMatch(off.line, /control token/, 'off: no token')
  await new Promise(resolve => setTimeout(resolve, 100))
  t.match(off.output().stderr, /WARNING: --control-token off: anyone who reaches 0\.0\.0\.0 can reset the device/, 'off warns')
  await off.stop()
})

t.test('without the control token, an unknown control path or method reveals nothing (401, not 404 or 405)', async t => {
  const app = await makeApp({ host: '0.0.0.0' })
  t.teardown(() => app.close())
  const token = String(app.kraken.control.token)
  const cases: Array<[string, string, number]> = [
    ['POST', '/_emulator/snapshots/some-name', 405],
    ['GET', '/_emulator/nothing-here', 404],
    ['GET', '/_EMULATOR/reset', 404]
  ]
  for (const [method, url, withToken] of cases) {
    const refused = await app.inject({ method: method as 'GET', url, headers: { host: 'localhost' } })
    t.equal(refused.statusCode, 401, `${method} ${url} without the token -> 401`)
    const allowed = await app.inject({ method: method as 'GET', url, headers: { host: 'localhost', 'x-kraken-control-token': token } })
    t.equal(allowed.statusCode, withToken, `${method} ${url} with the token -> ${withToken}`)
  }
  const health = await app.inject({ method: 'GET', url: '/_emulator/health' })
  t.equal(health.statusCode, 200, 'health stays open')
})
