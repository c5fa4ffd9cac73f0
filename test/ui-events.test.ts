// The live page's server side (issue 17): the page and its assets are open and hold no data, under
// a Content-Security-Policy; /ui/events needs a session, sends the whole state first, then
// transitions, objects, journal entries (filtered by what the viewer may read) and statistics, and
// says why it ends when the session does. Everything over real HTTPS, the clock moved by hand.
import t, { type Test } from 'tap'
import { startHttps, loginHttps, send } from './helpers/https.ts'
import { openEvents, type EventStream } from './helpers/events.ts'
import { CONTENT_SECURITY_POLICY } from '../src/ui/ui-routes.ts'
import type { EmulatorOptions } from '../src/start-emulator.ts'

interface State {
  viewer: { username: string, role: string }
  control: { token_required: boolean, clock: string | null }
  device: { hostname: string, model: string, version: string }
  stats: { device: { licence: { max_encoders: number } }, streams: Record<string, unknown> }
  objects: Record<string, Array<{ uuid: string, name: string, status?: string }>>
  journal: Array<{ method: string, path: string, user: string | null }>
  scenario: unknown
}

async function manual (t: Test, options: EmulatorOptions = {}) {
  const emu = await startHttps({ clock: 'manual', transitionMs: 5000, sessionTimeout: 600, ...options })
  t.teardown(() => emu.close())
  const clock = (advance_ms: number) => send(emu, 'POST', '/_emulator/clock', { body: { advance_ms } })
  return { emu, clock }
}

function closeAfter (t: Test, stream: EventStream): EventStream {
  t.teardown(() => stream.close())
  return stream
}

t.test('the page and its assets are open, hold no data, and carry the CSP', async t => {
  const { emu } = await manual(t)
  for (const path of ['/', '/ui']) {
    const res = await send(emu, 'GET', path)
    t.equal(res.status, 200, `GET ${path} without a session -> 200`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY, `${path}: the CSP`)
    t.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/, 'no inline script, no other origin')
    t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|https?:|\*/, 'nothing loosens it')
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.match(res.text, 'action="/apis/v2/login"', 'the login form posts to the device login')
    t.match(res.text, 'href="/apidoc"', 'a link to /apidoc')
    t.notMatch(res.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page')
    t.notMatch(res.text, /\son[a-z]+=/i, 'no inline event handler')
    t.notMatch(res.text, /https?:\/\//, 'no absolute URL: every asset is local')
    t.notMatch(res.text, /UAV-1|KR4000/, 'no device data in the open page')
  }
  t.equal((await send(emu, 'HEAD', '/')).status, 200, 'HEAD / too')
  const js = await send(emu, 'GET', '/ui/assets/app.js')
  t.equal(js.status, 200)
  t.match(js.headers['content-type'], /^text\/javascript/)
  t.notMatch(js.text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/, 'the script never inserts HTML')
  t.match((await send(emu, 'GET', '/ui/assets/style.css')).headers['content-type'], /^text\/css/)
  for (const path of ['/ui/assets/nothing.js', '/ui/assets/..%2Fpackage.json', '/ui/assets/index.html', '/ui/assets/__proto__', '/ui/nothing']) {
    const res = await send(emu, 'GET', path)
    t.equal(res.status, 404, `GET ${path} -> 404`)
    t.equal((res.json() as { error: { type: string } }).error.type, 'NotFound', `${path}: in the envelope`)
  }
  t.equal((await send(emu, 'GET', '/apidoc')).status < 400, true, '/apidoc still answers')
})

t.test('/ui/events refuses a caller without a live session', async t => {
  const { emu, clock } = await manual(t, { sessionTimeout: 60 })
  const expired = await loginHttps(emu)
  await clock(61_000)
  const loggedOut = await loginHttps(emu)
  await send(emu, 'POST', '/apis/v2/logout', { cookie: loggedOut })
  for (const [label, cookie] of [['no cookie', undefined], ['an unknown id', 'id=2f1c1b52-8a43-4d57-9b0e-4f4b1c1d9e10'],
    ['an expired session', expired], ['a logged-out session', loggedOut], ['an empty id', 'id=']] as const) {
    const stream = await openEvents(emu, cookie)
    t.equal(stream.status, 401, `${label} -> 401`)
    t.match(stream.events[0]?.data, { error: { type: 'SessionAuthentication' } }, `${label}: in the envelope`)
  }
  const post = await send(emu, 'POST', '/ui/events')
  t.equal(post.status, 405, 'POST -> 405 (the page\'s paths are no secret)')
  t.match(post.headers.allow, /GET/)
})

t.test('the state first, then transitions, objects and statistics as they happen', async t => {
  const { emu, clock } = await manual(t)
  const admin = await loginHttps(emu)
  const stream = closeAfter(t, await openEvents(emu, admin))
  t.equal(stream.status, 200)
  t.match(stream.headers['content-type'], /^text\/event-stream/)
  t.equal(stream.headers.server, 'nginx', 'the device headers')
  const first = await stream.next('state')
  t.equal(stream.events[0], first, 'the first event is the state')
  const state = first.data as State
  t.match(state.viewer, { username: 'haiadmin', role: 'Administrator' })
  t.match(state.control, { token_required: false, clock: 'manual' }, 'on loopback the page may send device events')
  t.ok(state.device.hostname.length > 0 && state.device.model === 'Kraken', 'the device')
  t.equal(state.objects.streams?.length, 5, 'the five streams of the default fixture')
  t.equal(state.scenario, null, 'no scenario plays')
  const target = state.objects.streams!.find(s => s.status === 'stopped')!
  t.ok(target !== undefined, 'a stopped stream to start')

  // Another client starts it.
  const other = await loginHttps(emu, 'operator', 'krakenapi')
  t.equal((await send(emu, 'PUT', `/apis/v2/streams/stream-${target.uuid}/start`, { cookie: other })).status, 200)
  const mine = (data: { uuid: string }) => data.uuid === target.uuid
  t.match((await stream.next('transition', mine)).data, { status: 'starting' }, 'starting at once')
  await clock(5000)
  t.match((await stream.next('transition', mine)).data, { status: 'running' }, 'running once the clock passes the transition')
  const fault = await send(emu, 'POST', '/_emulator/device/events', { body: { type: 'input-lost', stream: target.uuid } })
  t.equal(fault.status, 200)
  t.match((await stream.next('transition', mine)).data, { status: 'error', sub_status: /^input lost: / }, 'error with its reason')

  const created = await send(emu, 'POST', '/apis/v2/inputs', { cookie: admin, body: { name: 'class input', protocol: 'ts_udp', url: 'udp://239.77.1.1:5999' } })
  t.equal(created.status, 201, created.text)
  const uuid = (created.json() as { uuid: string }).uuid
  t.match((await stream.next('created')).data, { collection: 'inputs', item: { uuid, name: 'class input' } }, 'a created object')
  t.equal((await send(emu, 'PUT', `/apis/v2/inputs/input-${uuid}`, { cookie: admin, body: { name: 'renamed input' } })).status, 200)
  t.match((await stream.next('changed')).data, { collection: 'inputs', item: { uuid, name: 'renamed input' } }, 'a changed object')
  t.equal((await send(emu, 'DELETE', `/apis/v2/inputs/input-${uuid}`, { cookie: admin })).status, 204)
  t.match((await stream.next('deleted')).data, { collection: 'inputs', uuid }, 'a deleted object')

  // Statistics are pushed once a second (real time): wait for one, not for a time.
  const stats = (await stream.next('stats')).data as { device: { uptime: number, licence: unknown }, streams: Record<string, unknown> }
  t.type(stats.device.uptime, 'number', 'device figures')
  t.match(stats.device.licence, { transcoder: Number, bypass: Number, max_encoders: Number })
})

t.test('every transition of one clock move is sent, in order', async t => {
  const { emu, clock } = await manual(t)
  const admin = await loginHttps(emu)
  const stream = closeAfter(t, await openEvents(emu, admin))
  const target = ((await stream.next('state')).data as State).objects.streams!.find(s => s.status === 'stopped')!
  await send(emu, 'PUT', `/apis/v2/streams/stream-${target.uuid}/start`, { cookie: admin })
  await clock(5000)
  await send(emu, 'PUT', `/apis/v2/streams/stream-${target.uuid}/stop`, { cookie: admin })
  await clock(5000)
  const seen: string[] = []
  for (let i = 0; i < 4; i++) seen.push(((await stream.next('transition', d => d.uuid === target.uuid)).data as { status: string }).status)
  t.same(seen, ['starting', 'running', 'stopping', 'stopped'])
})

t.test('the journal feed: other clients\' requests, filtered by what the viewer may read', async t => {
  const { emu } = await manual(t)
  const admin = await loginHttps(emu)
  const viewer = await loginHttps(emu, 'user', 'krakenapi')
  const operator = await loginHttps(emu, 'operator', 'krakenapi')
  const asViewer = closeAfter(t, await openEvents(emu, viewer))
  const asOperator = closeAfter(t, await openEvents(emu, operator))
  await asViewer.next('state')
  await asOperator.next('state')
  await send(emu, 'GET', '/apis/v2/accounts/account-operator', { cookie: admin })
  await send(emu, 'GET', '/apis/v2/accounts/operator', { cookie: admin })
  await send(emu, 'GET', '/apis/v2/accounts/account-user', { cookie: admin })
  await send(emu, 'GET', '/apis/v2/streams', { cookie: admin })
  await send(emu, 'GET', '/ui/assets/app.js')
  await send(emu, 'GET', '/apis/v2/streams', { cookie: admin, headers: { 'x-kraken-page': 'thumbnail' } })
  await send(emu, 'GET', '/apis/v2/systeminfo', { cookie: admin })

  const taken = async (stream: EventStream) => {
    const out: Array<{ path: string, user: string | null, role: string | null }> = []
    for (;;) {
      const batch = (await stream.next('journal')).data as { entries: Array<{ path: string, user: string | null, role: string | null }> }
      for (const entry of batch.entries) {
        if (entry.path === '/apis/v2/systeminfo') return out
        out.push(entry)
      }
    }
  }
  const seenByViewer = await taken(asViewer)
  t.same(seenByViewer.map(e => e.path), ['/apis/v2/accounts/account-user', '/apis/v2/streams'],
    'a Viewer sees requests to its own account and to streams, not to other accounts (in any spelling), the page\'s assets or its thumbnails')
  t.same(seenByViewer.map(e => [e.user, e.role]), [[null, 'Administrator'], [null, 'Administrator']], 'nor the name of an account it may not see')
  const seenByOperator = await taken(asOperator)
  t.same(seenByOperator.map(e => e.path), ['/apis/v2/accounts/account-operator', '/apis/v2/accounts/operator', '/apis/v2/accounts/account-user', '/apis/v2/streams'], 'an Operator reads every account')
  t.equal(seenByOperator[0]?.user, 'haiadmin', 'and sees who sent it')

  // A page that connects later gets the recent entries with the state, filtered the same way.
  const late = closeAfter(t, await openEvents(emu, viewer))
  const journal = ((await late.next('state')).data as State).journal.map(e => e.path)
  t.notOk(journal.some(p => p.includes('operator')), 'the backlog hides other accounts too')
  t.ok(journal.includes('/apis/v2/streams'), 'and shows the rest')
})

t.test('the stream says why it ends and closes: logout, timeout, reboot, reset', async t => {
  const { emu, clock } = await manual(t, { sessionTimeout: 60 })
  const ends = async (act: (cookie: string) => Promise<unknown>, user = 'haiadmin') => {
    const cookie = await loginHttps(emu, user, 'krakenapi')
    const stream = closeAfter(t, await openEvents(emu, cookie))
    await stream.next('state')
    await act(cookie)
    const end = await stream.next('end')
    await stream.ended
    return (end.data as { reason: string }).reason
  }
  t.equal(await ends(cookie => send(emu, 'POST', '/apis/v2/logout', { cookie })), 'logout', 'logout')
  t.equal(await ends(() => clock(61_000)), 'timeout', 'an idle session times out (an open page does not keep it alive)')
  t.equal(await ends(() => send(emu, 'POST', '/_emulator/device/events', { body: { type: 'reboot' } })), 'reboot', 'a reboot')
  t.equal(await ends(() => send(emu, 'POST', '/_emulator/reset')), 'reset', 'a reset')
  t.equal(await ends(() => send(emu, 'POST', '/_emulator/device/events', { body: { type: 'sessions-expired' } })), 'expired', 'every session expired')
  const admin = await loginHttps(emu)
  t.equal(await ends(() => send(emu, 'PUT', '/apis/v2/accounts/account-operator', { cookie: admin, body: { state: 'Disabled' } }), 'operator'), 'account', 'the account disabled')
  t.equal(emu.app.liveHub.size, 0, 'no stream is left open')
})

t.test('a scenario\'s progress: its start, each step, its end', async t => {
  const { emu, clock } = await manual(t)
  const admin = await loginHttps(emu)
  const stream = closeAfter(t, await openEvents(emu, admin))
  t.equal(((await stream.next('state')).data as State).scenario, null, 'none played yet')
  const started = await send(emu, 'POST', '/_emulator/scenarios', { body: { name: 'outage-recovery' } })
  t.equal(started.status, 202, started.text)
  t.match((await stream.next('scenario')).data, { name: 'outage-recovery', step: 0, state: 'running' }, 'its start')
  await clock(60_000)
  const step = (await stream.next('scenario', d => d.step > 0)).data as { step: number, steps: number, elapsedMs: number, durationMs: number }
  t.ok(step.step > 0 && step.steps > step.step && step.durationMs > 0, `a step: ${step.step} of ${step.steps}`)
  await clock(240_000)
  t.match((await stream.next('scenario', d => d.state !== 'running')).data, { name: 'outage-recovery', state: 'finished' }, 'its end')
  const late = closeAfter(t, await openEvents(emu, admin))
  t.match(((await late.next('state')).data as State).scenario, { name: 'outage-recovery', state: 'finished' }, 'a page that connects later sees it in the state')
})

t.test('a reconnecting page gets the current state first; closing streams leaves nothing behind', async t => {
  const { emu, clock } = await manual(t)
  const admin = await loginHttps(emu)
  const first = await openEvents(emu, admin)
  const target = ((await first.next('state')).data as State).objects.streams!.find(s => s.status === 'stopped')!
  first.close()
  await send(emu, 'PUT', `/apis/v2/streams/stream-${target.uuid}/start`, { cookie: admin })
  await clock(5000)
  const again = closeAfter(t, await openEvents(emu, admin))
  const state = (await again.next('state')).data as State
  t.match(state.objects.streams!.find(s => s.uuid === target.uuid), { status: 'running' }, 'the state as it is now')
  t.ok(state.stats.streams[target.uuid] !== undefined, 'with the running stream\'s figures')

  const many = await Promise.all(Array.from({ length: 20 }, () => openEvents(emu, admin)))
  await Promise.all(many.map(s => s.next('state')))
  t.equal(emu.app.liveHub.size, 21, '21 streams open')
  for (const s of many) s.close()
  again.close()
  // The server learns of each close from its socket: wait for that, not for a time.
  while (emu.app.liveHub.size > 0) await new Promise(resolve => setImmediate(resolve))
  t.equal(emu.app.liveHub.size, 0, 'every closed stream is forgotten (the hub unsubscribes with the last)')
})
