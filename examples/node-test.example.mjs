// test/kraken.test.mjs: run with `node --test`
import { after, before, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, fetch } from 'undici'
import { startEmulator } from 'kraken-emulator'

let kraken
let agent

before(async () => {
  // A free port, state in memory, its own certificate; transitionMs: 0 makes start/stop instant.
  kraken = await startEmulator({ port: 0, fixture: 'default', inMemory: true, transitionMs: 0 })
  // Trust this emulator's certificate (no need to turn TLS verification off).
  agent = new Agent({ connect: { ca: kraken.certificate } })
})

// Every test starts from the fixture, with no session: reset resolves once the state is restored.
beforeEach(() => kraken.reset())

after(async () => {
  await agent?.close()
  await kraken?.close()
})

/** One JSON call to the emulator; `cookie` is what login() returns. */
function api (method, path, { cookie, body } = {}) {
  const headers = {}
  if (cookie) headers.cookie = cookie
  if (body) headers['content-type'] = 'application/json'
  return fetch(kraken.url + path, { method, headers, body: body && JSON.stringify(body), dispatcher: agent })
}

async function login (username = 'haiadmin', password = 'krakenapi') {
  const res = await api('POST', '/apis/v2/login', { body: { username, password } })
  assert.equal(res.status, 204)
  return res.headers.getSetCookie().find(c => c.startsWith('id=')).split(';')[0]
}

test('the default device lists its streams', async () => {
  const cookie = await login()
  const res = await api('GET', '/apis/v2/streams', { cookie })
  assert.equal(res.status, 200)
  const { stream_list: streams } = await res.json()
  assert.ok(streams.length > 0)
})

test('a reset undoes what a test created', async () => {
  let cookie = await login()
  const created = await api('POST', '/apis/v2/inputs', {
    cookie, body: { name: 'camera-7', protocol: 'ts_udp', url: 'udp://239.1.1.7:5000' }
  })
  assert.equal(created.status, 201)

  await kraken.reset() // also ends every session
  cookie = await login()
  const { input_list: inputs } = await (await api('GET', '/apis/v2/inputs', { cookie })).json()
  assert.ok(!inputs.some(input => input.name === 'camera-7'))
})
