// Transport rules over a real HTTPS port (kraken-api.md section 1) and the error envelope of every
// status this layer produces (section 4).
import http from 'node:http'
import { Readable } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import { startHttps, send, loginHttps, type HttpResult } from './helpers/https.ts'
import type { TapTest } from './helpers/auth.ts'
import { HSTS, assertDeviceHeaders } from './helpers/device-headers.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const MiB = 1024 * 1024

/** An error response: the status, the type, the envelope and nothing else (no top-level `id`). */
function assertEnvelope (t: TapTest, res: HttpResult, status: number, type: string, what: string): { message: string, details: Array<{ field: string, message: string }> } {
  t.equal(res.status, status, `${what}: status`)
  assertDeviceHeaders(t, res.headers, what)
  t.equal(res.headers['content-type'], JSON_TYPE, `${what}: content type`)
  const body = res.json() as { error: { type: string, message: string, details: Array<{ field: string, message: string }> } }
  t.same(Object.keys(body), ['error'], `${what}: only the envelope (never a top-level id)`)
  t.same(Object.keys(body.error).sort(), ['details', 'message', 'type'], `${what}: envelope keys`)
  t.equal(body.error.type, type, `${what}: type`)
  t.type(body.error.message, 'string')
  t.ok(Array.isArray(body.error.details), `${what}: details is an array`)
  return body.error
}

t.test('every response carries Server: nginx and HSTS, JSON ones the exact content type', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const viewer = await loginHttps(emu, 'user')
  const cases: Array<[string, () => Promise<HttpResult>, number, boolean]> = [
    ['health', () => send(emu, 'GET', '/_emulator/health'), 200, true],
    ['login', () => send(emu, 'POST', '/apis/v2/login', { body: { username: 'operator', password: 'krakenapi' } }), 204, false],
    ['failed login', () => send(emu, 'POST', '/apis/v2/login', { body: { username: 'operator', password: 'x' } }), 401, true],
    ['session', () => send(emu, 'GET', '/apis/v2/session', { cookie: admin }), 200, true],
    ['a list', () => send(emu, 'GET', '/apis/v2/accounts', { cookie: admin }), 200, true],
    ['no session', () => send(emu, 'GET', '/apis/v2/accounts'), 401, true],
    ['forbidden', () => send(emu, 'POST', '/apis/v2/accounts', { cookie: viewer, body: {} }), 403, true],
    ['unknown path', () => send(emu, 'GET', '/nope'), 404, true],
    ['unknown api path', () => send(emu, 'GET', '/apis/v2/nope', { cookie: admin }), 404, true],
    // The router's own refusals, answered before any hook runs (app.ts frameworkErrors).
    ['a bad %-escape in an id', () => send(emu, 'GET', '/apis/v2/streams/stream-%zz', { cookie: admin }), 400, true],
    ['an id over the router\'s length limit', () => send(emu, 'GET', `/apis/v2/streams/stream-${'a'.repeat(600)}`, { cookie: admin }), 404, true],
    ['wrong method', () => send(emu, 'PATCH', '/apis/v2/accounts', { cookie: admin }), 405, true],
    ['apidoc', () => send(emu, 'GET', '/apidoc'), 200, false],
    ['apidoc json', () => send(emu, 'GET', '/apidoc/json'), 200, true],
    ['apidoc asset', () => send(emu, 'GET', '/apidoc/static/swagger-ui.css'), 200, false],
    ['docs redirect', () => send(emu, 'GET', '/docs'), 301, false],
    ['logout', () => send(emu, 'GET', '/apis/v2/logout'), 204, false]
  ]
  for (const [what, run, status, json] of cases) {
    const res = await run()
    t.equal(res.status, status, `${what}: status`)
    assertDeviceHeaders(t, res.headers, what)
    if (json) {
      t.equal(res.headers['content-type'], JSON_TYPE, `${what}: content type`)
      t.doesNotThrow(() => res.json(), `${what}: JSON body`)
    }
  }
  t.equal((await send(emu, 'GET', '/docs')).headers.location, '/apidoc', '/docs redirects to /apidoc')
})

t.test('doubled and trailing slashes are tolerated', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const login = await send(emu, 'POST', '/apis/v2//login', { body: { username: 'haiadmin', password: 'krakenapi' } })
  t.equal(login.status, 204, 'a field client posts to /apis/v2//login')
  const cookie = (login.headers['set-cookie'] as string[]).find(c => c.startsWith('id='))!.split(';')[0]!
  for (const path of ['/apis/v2//session', '/apis/v2/session/', '//apis//v2//session//', '/apis/v2//accounts/', '/apis/v2/accounts//account-haiadmin/',
    '/apis/v2/accounts/haiadmin/', '/apis/v2//accounts?full=true', '/apis/v2/accounts/?full=true']) {
    const res = await send(emu, 'GET', path, { cookie })
    t.equal(res.status, 200, path)
    t.equal(res.headers['content-type'], JSON_TYPE, path)
  }
  t.equal((await send(emu, 'GET', '/_emulator//health/')).status, 200)
  t.equal((await send(emu, 'GET', '/apis/v2/logout/', { cookie })).status, 204, 'logout with a trailing slash is still open and still ends the session')
  t.equal((await send(emu, 'GET', '/apis/v2/session', { cookie })).status, 401)
})

t.test('413 above 1 MiB, in the envelope', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const padded = (size: number) => {
    const head = '{"username":"haiadmin","password":"'
    return head + 'x'.repeat(size - head.length - 2) + '"}'
  }
  t.equal(padded(MiB).length, MiB)
  const atLimit = await send(emu, 'POST', '/apis/v2/login', { body: padded(MiB) })
  t.equal(atLimit.status, 400, 'exactly 1 MiB is read (and refused by the schema, not by size)')
  assertEnvelope(t, await send(emu, 'POST', '/apis/v2/login', { body: padded(MiB + 1) }), 413, 'PayloadTooLarge', '1 MiB + 1')
  const cookie = await loginHttps(emu)
  assertEnvelope(t, await send(emu, 'POST', '/apis/v2/accounts', { cookie, body: padded(3 * MiB) }), 413, 'PayloadTooLarge', 'a guarded write')

  // Without Content-Length (chunked), the limit still holds.
  const res = await request(`${emu.url}/apis/v2/login`, {
    method: 'POST',
    dispatcher: emu.agent,
    headers: { 'content-type': 'application/json' },
    body: Readable.from([padded(MiB), ' '.repeat(1024)])
  })
  const text = await res.body.text()
  assertEnvelope(t, { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }, 413, 'PayloadTooLarge', 'chunked')
})

t.test('400 for a body that is not valid JSON', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  for (const body of ['{bad', '{"username":"haiadmin",', "{'username':'haiadmin'}", '{"a":1}}', 'null x']) {
    assertEnvelope(t, await send(emu, 'POST', '/apis/v2/login', { body }), 400, 'Validation', `login ${body}`)
    assertEnvelope(t, await send(emu, 'POST', '/apis/v2/accounts', { cookie, body }), 400, 'Validation', `create ${body}`)
  }
  assertEnvelope(t, await send(emu, 'POST', '/apis/v2/login', { body: '', headers: { 'content-type': 'application/json' } }), 400, 'Validation', 'empty body')
  for (const body of ['[]', '"haiadmin"', '42', 'null']) {
    assertEnvelope(t, await send(emu, 'POST', '/apis/v2/login', { body }), 400, 'Validation', `JSON that is not an object: ${body}`)
  }
  const poisoned = await send(emu, 'POST', '/apis/v2/login', { body: '{"username":"haiadmin","password":"krakenapi","__proto__":{"x":1}}' })
  assertEnvelope(t, poisoned, 400, 'Validation', '__proto__ key')
})

t.test('415 for a write that is not Content-Type: application/json', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  const json = JSON.stringify({ username: 'haiadmin', password: 'krakenapi' })
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'text/json']) {
    assertEnvelope(t, await send(emu, 'POST', '/apis/v2/login', { body: json, headers: { 'content-type': type } }), 415, 'UnsupportedMediaType', `login as ${type}`)
    assertEnvelope(t, await send(emu, 'POST', '/apis/v2/accounts', { cookie, body: json, headers: { 'content-type': type } }), 415, 'UnsupportedMediaType', `create as ${type}`)
    assertEnvelope(t, await send(emu, 'PUT', '/apis/v2/accounts/account-user', { cookie, body: '{}', headers: { 'content-type': type } }), 415, 'UnsupportedMediaType', `update as ${type}`)
  }
  // No Content-Type at all, with and without a body.
  const bare = await request(`${emu.url}/apis/v2/login`, { method: 'POST', dispatcher: emu.agent, body: json })
  const text = await bare.body.text()
  assertEnvelope(t, { status: bare.statusCode, headers: bare.headers, text, json: () => JSON.parse(text) }, 415, 'UnsupportedMediaType', 'no content type')
  assertEnvelope(t, await send(emu, 'POST', '/apis/v2/accounts', { cookie }), 415, 'UnsupportedMediaType', 'no body, no content type')

  for (const type of ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON']) {
    t.equal((await send(emu, 'POST', '/apis/v2/login', { body: json, headers: { 'content-type': type } })).status, 204, `accepted: ${type}`)
  }
})

t.test('404 for unknown paths and ids, 405 with Allow for a wrong method', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  for (const path of ['/nope', '/apis', '/apis/v3/streams', '/apis/v2/nope', '/apis/v2/accounts/account-nobody', '/apis/v2/accounts/nobody', '/apis/v2/accounts/account-haiadmin/nope', '/apidoc/nope.js']) {
    assertEnvelope(t, await send(emu, 'GET', path, { cookie }), 404, 'NotFound', path)
  }
  // The router refuses these before any hook runs (app.ts frameworkErrors); they answer like
  // every other error, device headers included.
  assertEnvelope(t, await send(emu, 'GET', `/apis/v2/streams/stream-${'a'.repeat(600)}`, { cookie }), 404, 'NotFound', 'an id longer than the router allows')
  assertEnvelope(t, await send(emu, 'GET', '/apis/v2/streams/stream-%zz', { cookie }), 400, 'Validation', 'a malformed %-escape')
  const cases: Array<[string, string, string[]]> = [
    ['PATCH', '/apis/v2/accounts', ['GET', 'POST']],
    ['DELETE', '/apis/v2/accounts', ['GET', 'POST']],
    ['POST', '/apis/v2/accounts/account-haiadmin', ['GET', 'PUT', 'DELETE']],
    ['PATCH', '/apis/v2/accounts/haiadmin', ['GET', 'PUT', 'DELETE']],
    ['PUT', '/apis/v2/login', ['POST']],
    ['PUT', '/apis/v2/logout', ['GET', 'POST', 'DELETE']],
    ['POST', '/apis/v2/session', ['GET']],
    ['DELETE', '/_emulator/health', ['GET']],
    ['GET', '/_emulator/reset', ['POST']]
  ]
  for (const [method, path, methods] of cases) {
    const res = await send(emu, method as 'GET', path, { cookie })
    assertEnvelope(t, res, 405, 'MethodNotAllowed', `${method} ${path}`)
    const allow = String(res.headers.allow ?? '').split(/,\s*/)
    for (const m of methods) t.ok(allow.includes(m), `${method} ${path}: Allow lists ${m}`)
    t.notOk(allow.includes(method), `${method} ${path}: Allow omits ${method}`)
  }
})

t.test('a 500 hides its message', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu)
  emu.app.kraken.store.commit = () => Promise.reject(new Error('EIO: /secret/disk/path failed'))
  const res = await send(emu, 'PUT', '/apis/v2/accounts/account-user', { cookie, body: { role: 'Operator' } })
  const error = assertEnvelope(t, res, 500, 'Internal', 'store failure')
  t.equal(error.message, 'internal error')
  t.notMatch(res.text, /secret|EIO/, 'nothing of the cause leaks')
})

t.test('GET /_emulator/health needs no session', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const res = await send(emu, 'GET', '/_emulator/health')
  t.equal(res.status, 200)
  t.match(res.json(), { status: 'ok', version: /^\d+\.\d+\.\d+/, uptime: Number })
})

t.test('--http-port answers every request with 301 to the HTTPS URL', async t => {
  const emu = await startHttps({ httpPort: 0 })
  t.teardown(() => emu.close())
  t.type(emu.httpPort, 'number')
  const plain = (method: string, path: string, host?: string) => new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: emu.httpPort, method, path, headers: host === undefined ? {} : { host } }, res => { res.resume(); resolve(res) })
    req.once('error', reject)
    req.end(method === 'POST' ? '{"username":"haiadmin","password":"krakenapi"}' : undefined)
  })
  for (const [method, path] of [['GET', '/apis/v2/streams?full=true'], ['POST', '/apis/v2/login'], ['GET', '/'], ['DELETE', '/apis/v2/logout']]) {
    const res = await plain(method!, path!)
    t.equal(res.statusCode, 301, `${method} ${path}`)
    t.equal(res.headers.location, `https://127.0.0.1:${emu.port}${path}`, `${method} ${path}: location`)
    t.equal(res.headers.server, 'nginx')
    t.equal(res.headers['strict-transport-security'], HSTS)
  }
  const named = await plain('GET', '/apidoc', `kraken.example:${emu.httpPort}`)
  t.equal(named.headers.location, `https://kraken.example:${emu.port}/apidoc`, 'the Host header names the target')
  // The target answers: follow it with the HTTPS client.
  const followed = await send(emu, 'GET', new URL(String((await plain('GET', '/_emulator/health')).headers.location)).pathname)
  t.equal(followed.status, 200)
})
