// test/kraken.test.mjs: run with `npx tap --allow-empty-coverage` (or `node test/kraken.test.mjs`):
// tap fails a run that covers none of your own code, as a suite that only drives the emulator does
import t from 'tap'
import { Agent, fetch } from 'undici'
import { startEmulator } from 'kraken-emulator'

const kraken = await startEmulator({ port: 0, fixture: 'default', inMemory: true, transitionMs: 0 })
const agent = new Agent({ connect: { ca: kraken.certificate } })
t.teardown(async () => {
  await agent.close()
  await kraken.close()
})
t.beforeEach(() => kraken.reset())

function api (method, path, { cookie, body } = {}) {
  const headers = {}
  if (cookie) headers.cookie = cookie
  if (body) headers['content-type'] = 'application/json'
  return fetch(kraken.url + path, { method, headers, body: body && JSON.stringify(body), dispatcher: agent })
}

async function login (username = 'haiadmin', password = 'krakenapi') {
  const res = await api('POST', '/apis/v2/login', { body: { username, password } })
  if (res.status !== 204) throw new Error(`login failed: ${res.status}`)
  return res.headers.getSetCookie().find(c => c.startsWith('id=')).split(';')[0]
}

t.test('the default device lists its streams', async t => {
  const cookie = await login()
  const res = await api('GET', '/apis/v2/streams', { cookie })
  t.equal(res.status, 200)
  const { stream_list: streams } = await res.json()
  t.ok(streams.length > 0)
})

t.test('a Viewer may not create inputs', async t => {
  const cookie = await login('user')
  const res = await api('POST', '/apis/v2/inputs', {
    cookie, body: { name: 'camera-7', protocol: 'ts_udp', url: 'udp://239.1.1.7:5000' }
  })
  t.equal(res.status, 403)
  t.match(await res.json(), { error: { type: 'SessionAuthorization' } })
})

t.test('a reset undoes what a test created', async t => {
  let cookie = await login()
  const created = await api('POST', '/apis/v2/inputs', {
    cookie, body: { name: 'camera-7', protocol: 'ts_udp', url: 'udp://239.1.1.7:5000' }
  })
  t.equal(created.status, 201)

  await kraken.reset() // also ends every session
  cookie = await login()
  const { input_list: inputs } = await (await api('GET', '/apis/v2/inputs', { cookie })).json()
  t.notOk(inputs.some(input => input.name === 'camera-7'))
})
