// test/client.test.mjs: run with `node --test`
import { after, before, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, fetch } from 'undici'
import { startEmulator } from 'kraken-emulator'

let kraken
let agent

before(async () => {
  kraken = await startEmulator({ port: 0, inMemory: true, transitionMs: 0, seed: 1 })
  agent = new Agent({ connect: { ca: kraken.certificate } })
})

// A reset also empties the request log and removes every fault.
beforeEach(() => kraken.reset())

after(async () => {
  await agent?.close()
  await kraken?.close()
})

/** The client under test: logs in, and retries a request once when the device answers 5xx. */
async function createInput (body) {
  const login = await call('POST', '/apis/v2/login', { body: { username: 'operator', password: 'krakenapi' } })
  const cookie = login.headers.getSetCookie().find(c => c.startsWith('id=')).split(';')[0]
  let res = await call('POST', '/apis/v2/inputs', { cookie, body })
  if (res.status >= 500) res = await call('POST', '/apis/v2/inputs', { cookie, body })
  return res
}

function call (method, path, { cookie, body } = {}) {
  const headers = {}
  if (cookie) headers.cookie = cookie
  if (body) headers['content-type'] = 'application/json'
  return fetch(kraken.url + path, { method, headers, body: body && JSON.stringify(body), dispatcher: agent })
}

test('the client sent one POST, as the operator, with the body it was given', async () => {
  const res = await createInput({ name: 'camera-1', protocol: 'ts_udp', url: 'udp://239.1.1.1:5000' })
  assert.equal(res.status, 201)

  // Throws, listing the nearest requests, unless exactly one request matches.
  const [post] = kraken.expectRequest({ method: 'POST', path: '/apis/v2/inputs', status: 201 }, { times: 1 })
  assert.equal(post.user, 'operator')
  assert.deepEqual(post.body, { name: 'camera-1', protocol: 'ts_udp', url: 'udp://239.1.1.1:5000' })

  // The same log over HTTP, for a suite in any language; passwords are masked.
  const logins = await (await call('GET', '/_emulator/requests?path=/apis/v2/login')).json()
  assert.equal(logins.requests[0].body.password, '***')
})

test('the client retries once when the device answers 503', async () => {
  await call('POST', '/_emulator/faults', {
    body: { match: { method: 'POST', path: '/apis/v2/inputs' }, action: { type: 'error', status: 503 }, times: 1 }
  })
  const res = await createInput({ name: 'camera-2', protocol: 'ts_udp', url: 'udp://239.1.1.2:5000' })
  assert.equal(res.status, 201)
  const posts = kraken.requests({ method: 'POST', path: '/apis/v2/inputs' })
  assert.deepEqual(posts.map(r => r.status), [503, 201])
  assert.equal(posts[0].fault.action, 'error')
})

test('the client reports a reset connection instead of hanging', async () => {
  await call('POST', '/_emulator/faults', {
    body: { match: { path: '/apis/v2/inputs' }, action: { type: 'reset' } }
  })
  await assert.rejects(createInput({ name: 'camera-3', protocol: 'ts_udp', url: 'udp://239.1.1.3:5000' }))
  kraken.expectRequest({ path: '/apis/v2/inputs', status: null })
})
