// test/kraken.test.mjs: run with `npx vitest run`
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { Agent, fetch } from 'undici'
import { startEmulator } from 'kraken-emulator'

let kraken
let agent

beforeAll(async () => {
  kraken = await startEmulator({ port: 0, fixture: 'default', inMemory: true, transitionMs: 0 })
  agent = new Agent({ connect: { ca: kraken.certificate } })
})
beforeEach(() => kraken.reset())
afterAll(async () => {
  await agent?.close()
  await kraken?.close()
})

function api (method, path, { cookie, body } = {}) {
  const headers = {}
  if (cookie) headers.cookie = cookie
  if (body) headers['content-type'] = 'application/json'
  return fetch(kraken.url + path, { method, headers, body: body && JSON.stringify(body), dispatcher: agent })
}

async function login (username = 'haiadmin', password = 'krakenapi') {
  const res = await api('POST', '/apis/v2/login', { body: { username, password } })
  expect(res.status).toBe(204)
  return res.headers.getSetCookie().find(c => c.startsWith('id=')).split(';')[0]
}

test('the default device lists its streams', async () => {
  const cookie = await login()
  const res = await api('GET', '/apis/v2/streams', { cookie })
  expect(res.status).toBe(200)
  const { stream_list: streams } = await res.json()
  expect(streams.length > 0).toBe(true)
})

test('a reset undoes what a test created', async () => {
  let cookie = await login()
  const created = await api('POST', '/apis/v2/inputs', {
    cookie, body: { name: 'camera-7', protocol: 'ts_udp', url: 'udp://239.1.1.7:5000' }
  })
  expect(created.status).toBe(201)

  await kraken.reset()
  cookie = await login()
  const { input_list: inputs } = await (await api('GET', '/apis/v2/inputs', { cookie })).json()
  expect(inputs.map(input => input.name)).not.toContain('camera-7')
})
