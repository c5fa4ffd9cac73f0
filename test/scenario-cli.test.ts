// `kraken-emulator scenario <file|name>` (issue 17): the command line starts a scenario on a
// running emulator and follows it to its end. The emulator runs on the manual clock: the test
// moves it once the command has started the scenario, and waits for the command's exit.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { startEmulator } from '../src/start-emulator.ts'
import { cliCommand } from './helpers/prepared.ts'
import { ROOT, tempDir } from './helpers/cli.ts'

interface Run { code: number | null, stdout: string[], stderr: string }

/** Spawns `kraken-emulator scenario ...`; `onLine` sees each stdout line as it comes. */
function scenario (args: readonly string[], onLine: (line: string) => void = () => {}): Promise<Run> {
  const [node, cli] = cliCommand()
  const child = spawn(node, [...cli, 'scenario', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: string[] = []
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  createInterface({ input: child.stdout }).on('line', line => { stdout.push(line); onLine(line) })
  return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }))
}

t.test('plays a shipped scenario on a running emulator and follows it to the end', async t => {
  const dir = await tempDir(t)
  const emu = await startEmulator({ clock: 'manual', controlToken: 'cli-secret' })
  t.teardown(() => emu.close())
  const ca = path.join(dir, 'cert.pem')
  await writeFile(ca, emu.certificate)
  const common = ['--target', emu.url, '--ca', ca, '--control-token', 'cli-secret']

  let playing: () => void = () => {}
  const started = new Promise<void>(resolve => { playing = resolve })
  const run = scenario(['outage-recovery', ...common], line => { if (line.startsWith('playing ')) playing() })
  await started
  const start = emu.clock.now() - emu.app.kraken.scenarios.status()!.elapsedMs
  // Step by step, letting each step's requests finish before the clock moves on.
  for (const at of [30, 60, 75, 76, 90, 91, 120, 165, 195, 225, 255]) {
    emu.clock.set(start + at * 1000)
    await emu.app.kraken.scenarios.idle()
  }
  const result = await run
  t.equal(result.code, 0, result.stderr)
  t.equal(result.stdout[0], 'playing outage-recovery: 10 steps over 4:15 of the device clock')
  t.equal(result.stdout.at(-1), 'outage-recovery finished')
  t.ok(result.stdout.some(line => /^\[\d+\/10\] /.test(line)), 'progress lines')

  const refused = await scenario(['no-such-scenario', ...common])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /refused the scenario \(400\): name names no shipped scenario \(outage-recovery, training-walkthrough\)/)

  const noToken = await scenario(['outage-recovery', '--target', emu.url, '--ca', ca])
  t.equal(noToken.code, 1)
  t.match(noToken.stderr, /\(401\)/)

  const untrusted = await scenario(['outage-recovery', '--target', emu.url, '--control-token', 'cli-secret'])
  t.equal(untrusted.code, 1)
  t.match(untrusted.stderr, /is not trusted: give --ca/)
  t.equal(emu.app.kraken.scenarios.status()?.state, 'finished', 'no refused call started anything')
})

t.test('a bad scenario file is told before anything is sent (exit 2)', async t => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'next.json')
  await writeFile(file, JSON.stringify({ format: 'kraken-emulator-scenario/2', name: 'x', steps: [] }))
  const res = await scenario([file, '--target', 'https://127.0.0.1:9'])
  t.equal(res.code, 2)
  t.match(res.stderr, /next\.json: format is version 2; this emulator plays version 1/)
  const order = path.join(dir, 'order.json')
  await writeFile(order, JSON.stringify({ format: 'kraken-emulator-scenario/1', name: 'x', steps: [{ at: '1:00', event: { type: 'reboot' } }, { at: '0:30', event: { type: 'reboot' } }] }))
  const unordered = await scenario([order, '--target', 'https://127.0.0.1:9'])
  t.equal(unordered.code, 2)
  t.match(unordered.stderr, /steps\.1\.at 0:30 comes before the previous step \(1:00\)/)
})
