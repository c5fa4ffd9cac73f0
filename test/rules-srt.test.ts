import t from 'tap'
import { call } from './helpers/app.ts'
import { API, assertRefused, attempt, create, mediaApp } from './helpers/media.ts'

// The SRT block of inputs and outputs (kraken-api.md section 5), including the write-only passphrase.

const PASS = 'correct-horse-battery'

t.test('a ts_srt item gets its defaults and a derived url', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const listener = await create(m, 'inputs', { name: 'l', protocol: 'ts_srt', srt_port: 9000, url: 'ignored' })
  t.match(listener, { srt_mode: 'listener', srt_address: null, srt_latency: 125, srt_encryption: 'none', url: 'srt://0.0.0.0:9000?mode=listener' })
  const caller = await create(m, 'outputs', { name: 'c', protocol: 'ts_srt', srt_mode: 'caller', srt_address: '10.0.0.2', srt_port: 9100 })
  t.match(caller, { srt_overhead: 25, srt_latency: 125, url: 'srt://10.0.0.2:9100?mode=caller' })
})

t.test('SRT rules refuse with 400 naming the field', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const srt = { name: 's', protocol: 'ts_srt', srt_port: 9000 }
  const cases: Array<[object, string, RegExp]> = [
    [{ ...srt, srt_port: null }, 'srt_port', /^srt_port is required when protocol is ts_srt$/],
    [{ ...srt, srt_port: 0 }, 'srt_port', /srt_port must be >= 1/],
    [{ ...srt, srt_mode: 'caller' }, 'srt_address', /^srt_address is required when srt_mode is caller$/],
    [{ ...srt, srt_mode: 'rendezvous' }, 'srt_address', /required when srt_mode is rendezvous/],
    [{ ...srt, srt_latency: 19 }, 'srt_latency', /srt_latency must be >= 20/],
    [{ ...srt, srt_latency: 8001 }, 'srt_latency', /<= 8000/],
    [{ ...srt, srt_encryption: 'aes128' }, 'srt_passphrase', /^srt_passphrase is required when srt_encryption is aes128$/],
    [{ ...srt, srt_encryption: 'aes256', srt_passphrase: 'short' }, 'srt_passphrase', /fewer than 10/],
    [{ ...srt, srt_passphrase: PASS }, 'srt_passphrase', /^srt_passphrase must be null when srt_encryption is none$/],
    [{ ...srt, srt_encryption: 'des' }, 'srt_encryption', /must be one of/]
  ]
  for (const [body, field, message] of cases) assertRefused(t, await attempt(m, 'POST', 'inputs', body), { status: 400, field, message })
  assertRefused(t, await attempt(m, 'POST', 'outputs', { ...srt, srt_overhead: 4 }), { status: 400, field: 'srt_overhead', message: />= 5/ })
})

t.test('the passphrase is stored but never returned, and a PUT without it keeps it', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const created = await call(m.app, m.cookie, 'POST', `${API}/inputs`, { name: 'enc', protocol: 'ts_srt', srt_port: 9000, srt_encryption: 'aes256', srt_passphrase: PASS })
  t.equal(created.statusCode, 201)
  const uuid = (created.json() as { uuid: string }).uuid
  const responses = [
    created,
    await call(m.app, m.cookie, 'GET', `${API}/inputs/input-${uuid}`),
    await call(m.app, m.cookie, 'GET', `${API}/inputs?full=true`),
    await call(m.app, m.cookie, 'PUT', `${API}/inputs/input-${uuid}`, { srt_latency: 400 })
  ]
  for (const res of responses) {
    t.notOk(res.body.includes('srt_passphrase'), `no srt_passphrase key in ${res.body.slice(0, 60)}...`)
    t.notOk(res.body.includes(PASS), 'nor the passphrase itself')
  }
  t.equal(m.app.kraken.store.get('inputs', uuid)?.srt_passphrase, PASS, 'kept after a PUT that does not name it')

  // Encryption off clears the stored secret; turning it on again needs a new one.
  t.equal((await call(m.app, m.cookie, 'PUT', `${API}/inputs/input-${uuid}`, { srt_encryption: 'none' })).statusCode, 200)
  t.equal(m.app.kraken.store.get('inputs', uuid)?.srt_passphrase, null)
  assertRefused(t, await attempt(m, 'PUT', `inputs/input-${uuid}`, { srt_encryption: 'aes128' }), { status: 400, field: 'srt_passphrase', message: /required/ })
})

t.test('two SRT listeners cannot bind one port (409 naming the other)', async t => {
  const m = await mediaApp()
  t.teardown(() => m.app.close())
  const first = await create(m, 'inputs', { name: 'first', protocol: 'ts_srt', srt_port: 9000 })
  assertRefused(t, await attempt(m, 'POST', 'outputs', { name: 'second', protocol: 'ts_srt', srt_port: 9000 }),
    { status: 409, field: 'srt_port', message: new RegExp(`srt_port 9000 of this output is already bound by input 'first' \\(${first.uuid}\\)`) })
  // A caller uses a remote port; a listener on another local address is no clash.
  await create(m, 'outputs', { name: 'caller', protocol: 'ts_srt', srt_mode: 'caller', srt_address: '10.0.0.1', srt_port: 9000 })
  await create(m, 'inputs', { name: 'bound a', protocol: 'ts_srt', srt_port: 9100, srt_address: '10.0.0.20' })
  await create(m, 'inputs', { name: 'bound b', protocol: 'ts_srt', srt_port: 9100, srt_address: '10.0.0.21' })
  t.pass('non-clashing SRT items created')
})
