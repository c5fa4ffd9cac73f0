// Date and time (issue 22, kraken-api.md section 10) over a real HTTPS port on the manual clock:
// time zone, NTP server (the network settings' ntpAddress) or manual time; systeminfo's
// currenttime follows it on the emulator's clock; each role; bad input refused with nothing changed.
import t, { type Test } from 'tap'
import { loginHttps, send, startHttps, type HttpResult } from './helpers/https.ts'

const API = '/apis/v2'
const DATETIME = `${API}/system/datetime`
/** 2027-01-15T12:00:00Z: winter in Paris (+01:00), in New York (-05:00). */
const AT = Date.UTC(2027, 0, 15, 12, 0, 0)

function assertEnvelope (t: Test, res: HttpResult, status: number, type: string, label: string): void {
  t.equal(res.status, status, `${label}: ${status} (${res.text.slice(0, 200)})`)
  t.match(res.json(), { error: { type, message: String, details: Array } }, `${label}: the envelope`)
}

async function start (): Promise<Awaited<ReturnType<typeof startHttps>> & { admin: string, advance: (ms: number) => void }> {
  const emulator = await startHttps({ clock: 'manual' })
  const clock = emulator.app.kraken.deviceClock
  if (clock === undefined) throw new Error('no device clock')
  clock.set(AT)
  return { ...emulator, admin: await loginHttps(emulator), advance: ms => clock.advance(ms) }
}

const currenttime = async (emulator: Awaited<ReturnType<typeof start>>): Promise<number> =>
  ((await send(emulator, 'GET', `${API}/systeminfo`, { cookie: emulator.admin })).json() as { currenttime: number }).currenttime

t.test('time zone, manual time and back to NTP: systeminfo and the log follow, on the emulator clock', async t => {
  const emulator = await start()
  t.teardown(() => emulator.close())
  const { admin } = emulator
  const factory = await send(emulator, 'GET', DATETIME, { cookie: admin })
  t.equal(factory.status, 200)
  t.same(factory.json(), {
    mode: 'ntp', timezone: 'UTC', ntpAddress: '10.10.0.1', ntp_synchronized: true,
    currenttime: AT / 1000, local_time: '2027-01-15T12:00:00+00:00', utc_offset: '+00:00'
  }, 'the factory settings: NTP mode, UTC, the default device\'s NTP server')

  const paris = await send(emulator, 'PUT', DATETIME, { cookie: admin, body: { timezone: 'Europe/Paris', ntpAddress: 'pool.ntp.org' } })
  t.equal(paris.status, 200, paris.text)
  t.match(paris.json(), { mode: 'ntp', timezone: 'Europe/Paris', ntpAddress: 'pool.ntp.org', ntp_synchronized: true, local_time: '2027-01-15T13:00:00+01:00', utc_offset: '+01:00' })
  t.match((await send(emulator, 'GET', `${API}/system/network`, { cookie: admin })).json(), { ntpAddress: 'pool.ntp.org' }, 'the NTP server is the network settings\' ntpAddress')
  t.equal(await currenttime(emulator), AT / 1000, 'a time zone does not move epoch seconds')

  const manual = 1893456000 // 2030-01-01T00:00:00Z
  const set = await send(emulator, 'PUT', DATETIME, { cookie: admin, body: { mode: 'manual', time: manual } })
  t.equal(set.status, 200, set.text)
  t.match(set.json(), { mode: 'manual', ntp_synchronized: false, currenttime: manual, local_time: '2030-01-01T01:00:00+01:00' })
  t.equal(await currenttime(emulator), manual, 'systeminfo shows the manual time')
  emulator.advance(90_000)
  t.equal(await currenttime(emulator), manual + 90, 'and it runs on the emulator clock')
  t.match((await send(emulator, 'PUT', DATETIME, { cookie: admin, body: { timezone: 'America/New_York' } })).json(),
    { mode: 'manual', currenttime: manual + 90, local_time: '2029-12-31T19:01:30-05:00', ntpAddress: 'pool.ntp.org' }, 'a later change keeps the manual time running, and the NTP server')

  const log = await send(emulator, 'GET', `${API}/system/log`, { cookie: admin })
  t.match(log.text, /^2029-12-31T19:01:30-05:00 kraken-kit-01 datetime: settings changed by haiadmin: timezone America\/New_York$/m, 'the log is stamped with the device\'s time, in its zone')

  const ntp = await send(emulator, 'PUT', DATETIME, { cookie: admin, body: { mode: 'ntp' } })
  t.match(ntp.json(), { mode: 'ntp', currenttime: AT / 1000 + 90 }, 'back to NTP: the emulator clock\'s time again')
  t.equal(await currenttime(emulator), AT / 1000 + 90)
})

t.test('each role: every role reads, only Administrators change', async t => {
  const emulator = await start()
  t.teardown(() => emulator.close())
  for (const [who, user] of [['Operator', 'operator'], ['Viewer', 'user']] as const) {
    const cookie = await loginHttps(emulator, user)
    t.equal((await send(emulator, 'GET', DATETIME, { cookie })).status, 200, `${who} reads`)
    assertEnvelope(t, await send(emulator, 'PUT', DATETIME, { cookie, body: { timezone: 'Europe/Paris' } }), 403, 'SessionAuthorization', `${who} changes`)
  }
  assertEnvelope(t, await send(emulator, 'GET', DATETIME), 401, 'SessionAuthentication', 'no session reads')
  assertEnvelope(t, await send(emulator, 'PUT', DATETIME, { body: { timezone: 'Europe/Paris' } }), 401, 'SessionAuthentication', 'no session changes')
  t.match((await send(emulator, 'GET', DATETIME, { cookie: emulator.admin })).json(), { timezone: 'UTC' }, 'nothing changed')
})

t.test('bad input: a clear 400/413/415 in the envelope and nothing changed', async t => {
  const emulator = await start()
  t.teardown(() => emulator.close())
  const { admin } = emulator
  const before = (await send(emulator, 'GET', DATETIME, { cookie: admin })).json()
  const network = (await send(emulator, 'GET', `${API}/system/network`, { cookie: admin })).json()
  const cases: Array<[string, unknown, number, string, RegExp?, Record<string, string>?]> = [
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 400, 'Validation', /timezone must be an IANA time zone/],
    ['a time zone in the wrong case', { timezone: 'europe/paris' }, 400, 'Validation', /timezone/],
    ['an offset for a time zone', { timezone: '+01:00' }, 400, 'Validation', /timezone/],
    ['an empty time zone', { timezone: '' }, 400, 'Validation'],
    ['a time in ntp mode', { time: 1893456000 }, 400, 'Validation', /manual mode only/],
    ['a time before 2000', { mode: 'manual', time: 0 }, 400, 'Validation'],
    ['a time as a string', { mode: 'manual', time: '2030-01-01' }, 400, 'Validation'],
    ['an unknown mode', { mode: 'gps' }, 400, 'Validation'],
    ['a bad NTP server', { ntpAddress: 'not a host!' }, 400, 'Validation'],
    ['an unknown field', { timezone: 'UTC', dst: true }, 400, 'Validation'],
    ['not an object', ['UTC'], 400, 'Validation'],
    ['malformed JSON', '{"timezone": ', 400, 'Validation'],
    ['not JSON', 'timezone=UTC', 415, 'UnsupportedMediaType', undefined, { 'content-type': 'application/x-www-form-urlencoded' }],
    ['oversized', { timezone: 'x'.repeat(1024 * 1024) }, 413, 'PayloadTooLarge']
  ]
  for (const [label, body, status, type, reason, headers] of cases) {
    const res = await send(emulator, 'PUT', DATETIME, { cookie: admin, body, ...(headers !== undefined && { headers }) })
    assertEnvelope(t, res, status, type, label)
    if (reason !== undefined) t.match((res.json() as { error: { message: string } }).error.message, reason, `${label}: says why`)
  }
  t.same((await send(emulator, 'GET', DATETIME, { cookie: admin })).json(), before, 'the settings did not change')
  t.same((await send(emulator, 'GET', `${API}/system/network`, { cookie: admin })).json(), network, 'nor did the network settings')
})
