// The fleet from the command line (issue 18): options and their variables, the versioned ready
// line with its devices, one-line errors.
import t from 'tap'
import { runCli, startCli, startCliJson } from './helpers/cli.ts'

interface FleetLine { schema: number, url: string, port: number, total: number, shard: { index: number, count: number }, devices: Array<{ number: number, url: string, address: string, port: number, hostname: string, serial: string }> }

t.test('KRAKEN_DEVICES and friends start a fleet; the JSON ready line lists its devices (schema 2)', async t => {
  const cli = await startCliJson(t, ['--in-memory', '--log-level', 'warn'], {
    KRAKEN_DEVICES: '5', KRAKEN_DEVICE_PORTS: '0', KRAKEN_SHARD: '1/2', KRAKEN_PASSWORD_HASH: 'fast', KRAKEN_SEED: '3'
  })
  const ready = cli.ready as unknown as FleetLine
  t.equal(ready.schema, 2)
  t.equal(ready.total, 5)
  t.same(ready.shard, { index: 1, count: 2 })
  t.same(ready.devices.map(d => d.number), [4, 5], 'shard 1 of 2 serves devices 4 and 5 (blocks of 3)')
  t.equal(ready.url, ready.devices[0]!.url, 'url and port are the first device\'s')
  t.equal(ready.port, ready.devices[0]!.port)
  t.ok(ready.devices.every(d => d.url === `https://127.0.0.1:${d.port}` && d.hostname === `kraken-${d.number}` && /^KR4000-\d{4}-000\d$/.test(d.serial)), 'every device with its URL, host name and serial')
  const run = await cli.stop()
  t.equal(run.code, 0, 'SIGTERM closes the fleet gracefully')
})

t.test('the text ready line names the range of devices', async t => {
  const cli = await startCli(t, ['--devices', '3', '--device-hostnames', 'kraken-{i}.test', '--port', '0', '--in-memory', '--password-hash', 'fast', '--log-level', 'warn'])
  t.match(cli.line, /^kraken-emulator fleet ready: 3 devices \(1\.\.3 of 3\) at https:\/\/kraken-1\.test:\d+\/apis\/v2 \.\. https:\/\/kraken-3\.test:\d+\/apis\/v2 .*login: haiadmin \/ krakenapi/)
})

t.test('a bad fleet option exits with status 2 and one line', async t => {
  for (const [args, message] of [
    [['--devices', '3'], /exactly one of --device-addresses/],
    [['--devices', '3', '--device-ports', '0', '--shard', '3/2'], /--shard 3\/2: the index 3 must be below the count 2/],
    [['--devices', '0', '--device-ports', '0'], /--devices/],
    [['--devices', '3', '--device-ports', '0', '--password-hash', 'slow'], /--password-hash/],
    [['--fleet', '/nonexistent/fleet.json', '--device-ports', '0'], /--fleet \/nonexistent\/fleet.json: ENOENT/]
  ] as const) {
    const run = await runCli([...args, '--in-memory', '--port', '0'])
    t.equal(run.code, 2, `${args.join(' ')}: status 2`)
    t.match(run.stderr, message)
    t.equal(run.stderr.trim().split('\n').length, 1, 'one line')
  }
})
