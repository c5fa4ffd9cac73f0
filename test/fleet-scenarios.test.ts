// Scenarios on a fleet device: a scenario posted to one device's /_emulator/scenarios plays on that
// device only (its calls, its device events, its clock), whatever the other devices do.
import t from 'tap'
import { Agent } from 'undici'
import { startFleet, type FleetDeviceHandle } from '../src/start-fleet.ts'
import { loginHttps, send } from './helpers/https.ts'
import { GATE_HEVC, UAV_720P } from './helpers/control.ts'

t.test('a scenario posted to device 2 acts on device 2 only', async t => {
  const fleet = await startFleet({ devices: 3, devicePorts: 0, passwordHash: 'fast', clock: 'manual', transitionMs: 1000, logLevel: 'silent' })
  t.teardown(() => fleet.close())
  const agent = new Agent({ connect: { ca: fleet.certificate } })
  t.teardown(() => agent.close())
  const [one, two] = fleet.devices.map(device => ({ device, url: device.url, agent })) as Array<{ device: FleetDeviceHandle, url: string, agent: Agent }> as [{ device: FleetDeviceHandle, url: string, agent: Agent }, { device: FleetDeviceHandle, url: string, agent: Agent }]
  const cookies = [await loginHttps(one), await loginHttps(two)] as const
  const status = async (on: 0 | 1, uuid: string) => (await send(on === 0 ? one : two, 'GET', `/apis/v2/streams/${uuid}`, { cookie: cookies[on] })).json() as { status: string, sub_status: string }
  for (const [i, handle] of [one, two].entries()) {
    // Every device's autostarted streams run before the scenario: move each clock past the transition.
    t.equal((await send(handle, 'POST', '/_emulator/clock', { body: { advance_ms: 1000 } })).status, 200, `device ${i + 1}'s clock moved`)
  }
  t.equal((await status(0, UAV_720P)).status, 'running', 'UAV-1 720p runs on device 1')
  t.equal((await status(1, UAV_720P)).status, 'running', 'and on device 2')
  const before = one.device.requests().length

  const posted = await send(two, 'POST', '/_emulator/scenarios', { body: { name: 'outage-recovery' } })
  t.equal(posted.status, 202, posted.text)
  await two.device.services.scenarios.idle()
  t.equal((await status(1, GATE_HEVC)).status, 'starting', 'the 0:00 step started Gate Camera HEVC on device 2')
  t.equal((await status(0, GATE_HEVC)).status, 'stopped', 'not on device 1')

  t.equal((await send(two, 'POST', '/_emulator/clock', { body: { advance_ms: 30_000 } })).status, 200)
  await two.device.services.scenarios.idle()
  t.match(await status(1, UAV_720P), { status: 'error', sub_status: /^input lost/ }, 'at 0:30 device 2\'s input is lost')
  t.match(await status(0, UAV_720P), { status: 'running', sub_status: '' }, 'device 1\'s is not')

  t.match((await send(two, 'GET', '/_emulator/scenarios')).json(), { status: { name: 'outage-recovery', state: 'running', step: 2 } }, 'device 2 plays it')
  t.match((await send(one, 'GET', '/_emulator/scenarios')).json(), { status: null }, 'device 1 plays nothing')
  t.equal(two.device.requests({ method: 'POST', path: `/apis/v2/streams/${GATE_HEVC}/start` }).length, 1, 'the scenario\'s call is in device 2\'s request log')
  t.same(one.device.requests().slice(before).map(e => e.method), ['GET', 'GET'], 'device 1\'s log has only this test\'s own two reads')
})
