// The live page on a fleet: one app serves every device, and each device's page follows that
// device only (its own hub, made when its first page connects, its timers in its own scope).
import t from 'tap'
import { Agent } from 'undici'
import { startFleet, type FleetDeviceHandle } from '../src/start-fleet.ts'
import { loginHttps, send } from './helpers/https.ts'
import { openEvents, type EventStream, type LiveEvent } from './helpers/events.ts'

interface State { device: { hostname: string }, objects: { streams: Array<{ uuid: string, status: string }> } }
interface JournalBatch { entries: Array<{ method: string, path: string }> }

t.test('two devices\' /ui/events streams each see their own device\'s transitions and journal only', async t => {
  const fleet = await startFleet({ devices: 3, devicePorts: 0, passwordHash: 'fast', clock: 'manual', transitionMs: 5000, logLevel: 'silent' })
  t.teardown(() => fleet.close())
  const agent = new Agent({ connect: { ca: fleet.certificate } })
  t.teardown(() => agent.close())
  const [one, two] = fleet.devices.map(device => ({ device, url: device.url, agent })) as [{ device: FleetDeviceHandle, url: string, agent: Agent }, { device: FleetDeviceHandle, url: string, agent: Agent }]
  const cookies = [await loginHttps(one), await loginHttps(two)] as const
  const streams: [EventStream, EventStream] = [await openEvents(one, cookies[0]), await openEvents(two, cookies[1])]
  for (const stream of streams) t.teardown(() => stream.close())
  const states: [State, State] = [(await streams[0].next('state')).data as State, (await streams[1].next('state')).data as State]
  t.equal(states[0].device.hostname, one.device.hostname, 'device 1\'s page gets device 1\'s state')
  t.equal(states[1].device.hostname, two.device.hostname, 'device 2\'s page gets device 2\'s state')

  // The devices share their fixture, hence their stream uuids: each starts a different stream.
  const stopped = states[0].objects.streams.filter(s => s.status === 'stopped').map(s => s.uuid)
  t.ok(stopped.length >= 2, 'two stopped streams to start')
  const [mine, theirs] = stopped as [string, string]
  t.equal((await send(one, 'PUT', `/apis/v2/streams/stream-${mine}/start`, { cookie: cookies[0] })).status, 200)
  t.equal((await send(two, 'PUT', `/apis/v2/streams/stream-${theirs}/start`, { cookie: cookies[1] })).status, 200)
  t.match((await streams[0].next('transition', d => d.uuid === mine)).data, { status: 'starting' }, 'device 1: its stream starting')
  t.match((await streams[1].next('transition', d => d.uuid === theirs)).data, { status: 'starting' }, 'device 2: its stream starting')
  // Only device 1's clock moves: its stream runs, device 2's is still starting.
  t.equal((await send(one, 'POST', '/_emulator/clock', { body: { advance_ms: 5000 } })).status, 200)
  t.match((await streams[0].next('transition', d => d.uuid === mine)).data, { status: 'running' }, 'device 1: running once its clock passes the transition')
  t.equal((await send(two, 'POST', '/apis/v2/inputs', { cookie: cookies[1], body: { name: 'only on two', protocol: 'ts_udp', url: 'udp://239.77.1.2:5999' } })).status, 201)
  t.match((await streams[1].next('created')).data, { collection: 'inputs', item: { name: 'only on two' } }, 'device 2: its created object')
  // A last request on each device: once its journal batch arrives, everything before it has been sent.
  await send(one, 'GET', '/apis/v2/systeminfo', { cookie: cookies[0] })
  await send(two, 'GET', '/apis/v2/systeminfo', { cookie: cookies[1] })
  const journalUntil = async (stream: EventStream): Promise<string[]> => {
    const seen: string[] = []
    for (;;) {
      const batch = (await stream.next('journal')).data as JournalBatch
      for (const entry of batch.entries) seen.push(`${entry.method} ${entry.path}`)
      if (batch.entries.some(e => e.path.startsWith('/apis/v2/systeminfo'))) return seen
    }
  }
  const journals: [string[], string[]] = [await journalUntil(streams[0]), await journalUntil(streams[1])]
  t.ok(journals[0].includes(`PUT /apis/v2/streams/stream-${mine}/start`), 'device 1\'s journal has its own start')
  t.notOk(journals[0].some(e => e.includes(theirs) || e.includes('inputs')), 'and none of device 2\'s requests')
  t.ok(journals[1].includes(`PUT /apis/v2/streams/stream-${theirs}/start`) && journals[1].includes('POST /apis/v2/inputs'), 'device 2\'s journal has its own requests')
  t.notOk(journals[1].some(e => e.includes(mine)), 'and none of device 1\'s')

  const transitions = (events: LiveEvent[]) => events.filter(e => e.event === 'transition').map(e => `${(e.data as { uuid: string }).uuid} ${(e.data as { status: string }).status}`)
  t.same(transitions(streams[0].events).filter(e => e.startsWith(mine)), [`${mine} starting`, `${mine} running`], 'device 1\'s page saw its stream start and run')
  t.notOk(transitions(streams[0].events).some(e => e.startsWith(theirs)), 'and nothing of the stream device 2 started')
  t.same(transitions(streams[1].events), [`${theirs} starting`], 'device 2\'s page saw device 2\'s only (its clock did not move)')
  t.notOk(streams[0].events.some(e => e.event === 'created'), 'device 1\'s page saw no object created on device 2')

  // Statistics come from the hub's own timer, which reads its device outside any request.
  const stats = (await streams[1].next('stats')).data as { streams: Record<string, unknown> }
  t.type(stats.streams, 'object', 'device 2\'s page gets statistics from its own timer')
})
