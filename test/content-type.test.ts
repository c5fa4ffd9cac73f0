import t from 'tap'
import { makeApp, login, call } from './helpers/app.ts'

// A field client refuses any JSON response whose type is not exactly this (kraken-api.md section 1).
const JSON_TYPE = 'application/json; charset=utf-8'

t.test('every JSON response says application/json; charset=utf-8, errors included', async t => {
  const app = await makeApp()
  t.teardown(() => app.close())
  const cookie = await login(app)
  const stream = ((await call(app, cookie, 'GET', '/apis/v2/streams')).json() as { stream_list: Array<{ uuid: string }> }).stream_list[0]!.uuid
  const metadata = ((await call(app, cookie, 'GET', '/apis/v2/metadata')).json() as { metadata_list: Array<{ uuid: string }> }).metadata_list[0]!.uuid
  // Every parameter-free GET route the app has, plus one of each parameterised kind.
  const urls = app.kraken.routes.routes
    .filter(r => r.method === 'GET' && !r.hidden && !r.url.includes(':') && r.url !== '/apis/v2/logout')
    .map(r => r.url)
  urls.push(`/apis/v2/streams/stream-${stream}`, `/apis/v2/streams/${stream}/statistics`, `/apis/v2/metadata/${metadata}/relays`,
    '/apis/v2/system/services/ssh', '/apis/v2/accounts/account-haiadmin', '/apidoc/json')
  t.ok(urls.length > 15, `${urls.length} GET urls`)
  // The device's downloads are not JSON: each says what it is.
  const downloads: Record<string, string> = {
    '/apis/v2/system/log': 'text/plain; charset=utf-8',
    [`/apis/v2/streams/stream-${stream}/log`]: 'text/plain; charset=utf-8',
    [`/apis/v2/streams/stream-${stream}/thumbnail`]: 'image/jpeg'
  }
  for (const url of [...urls, ...Object.keys(downloads).filter(u => !urls.includes(u))]) {
    const res = await call(app, cookie, 'GET', url)
    t.equal(res.statusCode, 200, url)
    t.equal(res.headers['content-type'], downloads[url] ?? JSON_TYPE, url)
  }
  const errors: Array<[string, Parameters<typeof call>[2], string, unknown?]> = [
    ['401', 'GET', '/apis/v2/streams'],
    ['404', 'GET', '/apis/v2/no-such-thing'],
    ['405', 'PATCH', '/apis/v2/streams'],
    ['400', 'POST', '/apis/v2/streams', { name: 7 }],
    ['409', 'DELETE', `/apis/v2/streams/stream-${stream}`]
  ]
  for (const [status, method, url, body] of errors) {
    const res = await call(app, status === '401' ? undefined : cookie, method, url, body)
    t.equal(String(res.statusCode), status, `${method} ${url}`)
    t.equal(res.headers['content-type'], JSON_TYPE, `${status} ${method} ${url}`)
  }
  const unsupported = await app.inject({ method: 'POST', url: '/apis/v2/streams', headers: { cookie, 'content-type': 'text/plain' }, payload: 'x' })
  t.equal(unsupported.statusCode, 415)
  t.equal(unsupported.headers['content-type'], JSON_TYPE, '415')
})
