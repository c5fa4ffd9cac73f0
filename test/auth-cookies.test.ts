// The lenient Cookie parsing field clients need (kraken-api.md section 2, "The session cookie").
import t from 'tap'
import { startHttps, send, loginHttps } from './helpers/https.ts'
import { rawRequest } from './helpers/raw.ts'

const SESSION = '/apis/v2/session'

t.test('cookie headers that field clients really send are accepted', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu, 'operator')
  const id = cookie.slice('id='.length)
  const stale = '3f1c1a52-7d0b-4c55-9d8e-0a6b2f1e9c11'
  const headers: Record<string, string> = {
    'the header one field client builds from Set-Cookie lines':
      `DisplayUnsavedWarning=true; Path=/; Secure;; id=${id}; Path=/; Secure; HttpOnly;; id=${id}`,
    'a stale id first, then the live one': `id=${stale}; id=${id}`,
    'attribute tokens and empty segments around it': `;; Path=/; id=${id}; HttpOnly;;`,
    'spaces around the separator': `DisplayUnsavedWarning=true ;  id=${id}  `,
    'a quoted value': `id="${id}"`,
    'an unparseable segment before it': `=; garbage; id=${id}`
  }
  for (const [what, header] of Object.entries(headers)) {
    const res = await send(emu, 'GET', SESSION, { cookie: header })
    t.equal(res.status, 200, what)
    t.match(res.json(), { username: 'operator' }, what)
  }
})

t.test('two Cookie header lines are read together', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cookie = await loginHttps(emu, 'user')
  const res = await rawRequest(emu, [
    `GET ${SESSION} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Cookie: DisplayUnsavedWarning=true; id=11111111-2222-4333-8444-555555555555',
    `Cookie: ${cookie}`
  ])
  t.equal(res.status, 200, 'the live id on the second line is found')
  t.match(JSON.parse(res.body), { username: 'user', role: 'Viewer' })

  const reversed = await rawRequest(emu, ['GET /apis/v2/session HTTP/1.1', 'Host: 127.0.0.1', `Cookie: ${cookie}`, 'Cookie: id=bogus'])
  t.equal(reversed.status, 200, 'and on the first line')
})

t.test('without a live id the answer is 401 in the envelope', async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const cases: Record<string, string | undefined> = {
    'no cookie': undefined,
    'only attributes': 'Path=/; Secure; HttpOnly',
    'an unknown id': 'id=3f1c1a52-7d0b-4c55-9d8e-0a6b2f1e9c11',
    'an empty id': 'id=; DisplayUnsavedWarning=',
    'the id under another name': `sid=${(await loginHttps(emu)).slice(3)}`
  }
  for (const [what, cookie] of Object.entries(cases)) {
    const res = await send(emu, 'GET', SESSION, cookie === undefined ? {} : { cookie })
    t.equal(res.status, 401, what)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', what)
    t.same(res.json(), { error: { type: 'SessionAuthentication', message: 'a valid session is required', details: [] } }, what)
  }
})
