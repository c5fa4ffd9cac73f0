// test/kraken.test.mjs: run with `NODE_OPTIONS=--experimental-vm-modules npx jest`
import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals'
import { Agent, fetch } from 'undici'

// This worker's emulator, started by kraken.global-setup.mjs.
const kraken = JSON.parse(process.env.KRAKEN_EMULATORS)[Number(process.env.JEST_WORKER_ID) - 1]
let agent

beforeAll(() => {
  agent = new Agent({ connect: { ca: kraken.certificate } })
})
// The reset route needs no session; it answers once the fixture is restored.
beforeEach(async () => {
  expect((await api('POST', '/_emulator/reset')).status).toBe(200)
})
afterAll(() => agent.close())

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

  expect((await api('POST', '/_emulator/reset')).status).toBe(200)
  cookie = await login()
  const { input_list: inputs } = await (await api('GET', '/apis/v2/inputs', { cookie })).json()
  expect(inputs.map(input => input.name)).not.toContain('camera-7')
})
