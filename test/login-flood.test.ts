// Login floods (issue 13): a bounded queue per name and one for all unknown names
// (--login-queue); a full lane answers 429 at once, and a correct login to another account still
// gets through. The hasher is held (no scrypt starts) while the flood arrives, so nothing here
// depends on timing.
import t from 'tap'
import { startHttps, send, type HttpResult } from './helpers/https.ts'
import { setCookiesOf, type TapTest } from './helpers/auth.ts'
import { spyScrypt } from './helpers/scrypt-spy.ts'

const LOGIN = '/apis/v2/login'
type Emu = Awaited<ReturnType<typeof startHttps>>

/** Sends every login at once; `answered` lists them in the order their answers came. */
function flood (emu: Emu, bodies: Array<{ username: string, password: string }>, answered: string[]): Array<Promise<HttpResult>> {
  return bodies.map((body, i) => send(emu, 'POST', LOGIN, { body }).then(res => {
    answered.push(`flood-${i}`)
    return res
  }))
}

/** Resolves once `count` of the promises have settled, with those results. */
async function firstAnswers (promises: Array<Promise<HttpResult>>, count: number): Promise<HttpResult[]> {
  const results: HttpResult[] = []
  return await new Promise((resolve, reject) => {
    for (const promise of promises) {
      promise.then(res => {
        results.push(res)
        if (results.length === count) resolve(results)
      }, reject)
    }
  })
}

function assertTooMany (t: TapTest, res: HttpResult, what: string): void {
  t.equal(res.status, 429, `${what}: 429`)
  t.equal(res.headers['retry-after'], '1', `${what}: Retry-After`)
  t.same(res.json(), { error: { type: 'TooManyRequests', message: 'too many logins are in progress for this name; try again shortly', details: [] } }, `${what}: envelope`)
  t.notOk(setCookiesOf(res).some(c => c.startsWith('id=')), `${what}: no session`)
}

t.test('a flood of unknown names fills its shared lane and gets 429s; a correct login to an account still gets 204', async t => {
  const spy = spyScrypt()
  t.teardown(() => spy.restore())
  const loginQueue = 16
  const emu = await startHttps({ loginQueue })
  t.teardown(() => emu.close())
  spy.hold()
  const extra = 6
  const answered: string[] = []
  const bodies = Array.from({ length: loginQueue + extra }, (_, i) => ({ username: `ghost-${i}`, password: 'guess' }))
  const sent = flood(emu, bodies, answered)
  // With the hasher held, only the logins refused at the door can answer.
  const refused = await firstAnswers(sent, extra)
  for (const res of refused) assertTooMany(t, res, 'past the unknown names\' lane')
  t.equal(spy.held, 2, 'two hashes at once, held; the rest of the lane waits')

  const correct = send(emu, 'POST', LOGIN, { body: { username: 'haiadmin', password: 'krakenapi' } }).then(res => {
    answered.push('haiadmin')
    return res
  })
  spy.release()
  const admitted = await correct
  t.equal(admitted.status, 204, 'the correct login was admitted and logged in')
  const rest = (await Promise.all(sent)).filter(res => res.status !== 429)
  t.equal(rest.length, loginQueue, 'the whole lane was admitted')
  t.ok(rest.every(res => res.status === 401), 'and refused as unknown names')
  // Lanes take turns at the hasher: the correct login waited about one turn, not for the lane
  // (in one queue it would have been answered after all sixteen).
  const before = answered.indexOf('haiadmin') - extra
  t.ok(before < loginQueue / 2, `the correct login was answered among the first (after ${before} of the flood)`)
})

t.test('a flood against one account fills that account\'s lane only; one unknown name gets the same bound', async t => {
  const spy = spyScrypt()
  t.teardown(() => spy.restore())
  const loginQueue = 8
  const emu = await startHttps({ lockoutAttempts: 0, loginQueue })
  t.teardown(() => emu.close())
  for (const target of ['operator', 'nobody']) {
    spy.hold()
    const extra = 4
    const answered: string[] = []
    const bodies = Array.from({ length: loginQueue + extra }, (_, i) => ({ username: target, password: `guess-${i}` }))
    const sent = flood(emu, bodies, answered)
    for (const res of await firstAnswers(sent, extra)) assertTooMany(t, res, `past ${target}'s lane`)
    const correct = send(emu, 'POST', LOGIN, { body: { username: 'user', password: 'krakenapi' } })
    spy.release()
    t.equal((await correct).status, 204, `a correct login to another account during a flood against ${target}`)
    const rest = (await Promise.all(sent)).filter(res => res.status !== 429)
    t.equal(rest.length, loginQueue, `${target}: the whole lane was admitted (the same bound for an unknown name)`)
    t.ok(rest.every(res => res.status === 401))
  }
  // The lanes empty as their logins end: the names are accepted again.
  t.equal((await send(emu, 'POST', LOGIN, { body: { username: 'operator', password: 'krakenapi' } })).status, 204)
})
