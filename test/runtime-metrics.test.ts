import t from 'tap'
import { call, login, USERS } from './helpers/app.ts'
import { S, makeRuntimeApp, streamUrl } from './helpers/runtime.ts'

interface Snapshot {
  system: { uptime: number }
  memory: { usedPercent: string }
  cpu: { loadPercent: string }
  network: { receivedMbps: string, sentMbps: string }
}

t.test('system/metric/snapshot follows the running streams', async t => {
  const { app, clock } = await makeRuntimeApp()
  t.teardown(() => app.close())
  const admin = await login(app)
  const viewer = await login(app, USERS.Viewer)
  const snapshot = async (): Promise<Snapshot> => {
    const res = await call(app, viewer, 'GET', '/apis/v2/system/metric/snapshot')
    t.equal(res.statusCode, 200)
    const body = res.json() as Snapshot
    t.match(body.cpu.loadPercent, /^\d+\.\d\d$/, 'CPU percent: a two-decimal string')
    t.match(body.memory.usedPercent, /^\d+\.\d\d$/, 'memory percent: a two-decimal string')
    t.ok(Number.isInteger(body.system.uptime), 'uptime: an integer')
    return body
  }

  // The fixture auto-started a transcoding and a Bypass stream: stop them for an idle device.
  await call(app, admin, 'PUT', streamUrl(S.camera720, '/stop'))
  await call(app, admin, 'PUT', streamUrl(S.relay, '/stop'))
  clock.advance(12_345)
  const idle = await snapshot()
  t.equal(idle.system.uptime, 12, 'uptime is the emulator\'s, in whole seconds')
  t.equal(Number(idle.network.receivedMbps), 0, 'nothing received while idle')
  t.equal(Number(idle.network.sentMbps), 0, 'nothing sent while idle')
  clock.advance(5_000)
  t.same((await snapshot()).cpu, idle.cpu, 'an idle device stays put')

  await call(app, admin, 'PUT', streamUrl(S.camera720, '/start'))
  clock.advance(10_000)
  const one = await snapshot()
  t.ok(Number(one.cpu.loadPercent) > Number(idle.cpu.loadPercent), `CPU rises with a transcoding stream (${idle.cpu.loadPercent} -> ${one.cpu.loadPercent})`)
  t.ok(Number(one.memory.usedPercent) > Number(idle.memory.usedPercent), 'memory rises')
  t.ok(Math.abs(Number(one.network.receivedMbps) - 8) < 0.5, `the 8 Mbps source is received (${one.network.receivedMbps})`)
  t.ok(Math.abs(Number(one.network.sentMbps) - 2.73) < 0.1, `one 2.7 Mbps output is sent (${one.network.sentMbps})`)

  await call(app, admin, 'PUT', streamUrl(S.relay, '/start'))
  clock.advance(10_000)
  const two = await snapshot()
  t.ok(Number(two.cpu.loadPercent) > Number(one.cpu.loadPercent), 'CPU rises with a second stream')
  t.equal(Math.round(Number(two.network.receivedMbps)), 8, 'the shared multicast source is received once')
  t.ok(Number(two.network.sentMbps) > Number(one.network.sentMbps) + 7, 'the Bypass copy adds its 8 Mbps')

  await call(app, admin, 'PUT', streamUrl(S.camera720, '/stop'))
  await call(app, admin, 'PUT', streamUrl(S.relay, '/stop'))
  const after = await snapshot()
  t.same({ cpu: after.cpu, memory: after.memory, network: after.network }, { cpu: idle.cpu, memory: idle.memory, network: idle.network }, 'back to idle once stopped')
  t.equal(after.system.uptime, 37)
})
