import t from 'tap'
import fc from 'fast-check'
import { StreamSignal, type Counters } from '../src/runtime/stream-statistics.ts'
import type { StreamProfile } from '../src/runtime/stream-profile.ts'
import { Wobble, mulberry32 } from '../src/runtime/wobble.ts'
import { deviceLoad } from '../src/runtime/device-load.ts'

const transcoding: StreamProfile = {
  mode: 'passthru', kind: 'transcoder', inputId: 'in-1', inputBps: 8_000_000, outputBps: 2_730_000,
  outputs: 2, passthru: true, videoBps: 2_500_000, width: 1280, height: 720, sourceFps: 30, fps: 30,
  format: 'h264', gopSize: 60, latencyMs: 450
}
const bypass: StreamProfile = { ...transcoding, mode: 'iorouter', kind: 'bypass', outputBps: 8_000_000, outputs: 1, passthru: false, videoBps: 0, format: null, gopSize: 0 }

const START = 12.5

function flatten (c: Counters): number[] {
  return [c.input, c.output, c.decoder, c.encoder].flatMap(g => Object.values(g))
}

t.test('counters never decrease, whatever the seed, the profile and the sampling times', async t => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    fc.boolean(),
    fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 2, maxLength: 40 }),
    (seed, isBypass, steps) => {
      const signal = new StreamSignal(isBypass ? bypass : transcoding, seed, 'stream-a')
      let now = START
      let previous = flatten(signal.counters({ since: START, now }))
      for (const ms of steps) {
        now += ms / 1000
        const current = flatten(signal.counters({ since: START, now }))
        for (const [i, value] of current.entries()) if (value < previous[i]!) return false
        previous = current
      }
      return true
    }
  ), { numRuns: 300 })
  t.pass('no counter ever went down')
})

t.test('rates stay near their nominal value and do vary', async t => {
  const signal = new StreamSignal(transcoding, 7, 'stream-a')
  const rates = new Set<number>()
  for (let s = 0; s <= 600; s += 5) {
    const stats = signal.statistics({ since: START, now: START + s }, undefined)
    t.ok(Math.abs(stats.overall_rate / transcoding.outputBps - 1) <= 0.015 + 1e-9, `overall_rate within 1.5 % at ${s} s`)
    t.ok(Math.abs(stats.input_rate / transcoding.inputBps - 1) <= 0.03 + 1e-9, `input_rate within 3 % at ${s} s`)
    rates.add(stats.overall_rate)
  }
  t.ok(rates.size > 50, 'the rate moves over ten minutes')
})

t.test('the values depend on the seed and the stream, not on anything else', async t => {
  const at = { since: START, now: START + 90.5 }
  const a = new StreamSignal(transcoding, 1, 'stream-a').statistics(at, undefined)
  t.same(new StreamSignal(transcoding, 1, 'stream-a').statistics(at, undefined), a, 'same seed and stream: same values')
  t.not(new StreamSignal(transcoding, 2, 'stream-a').statistics(at, undefined).overall_rate, a.overall_rate, 'another seed differs')
  t.not(new StreamSignal(transcoding, 1, 'stream-b').statistics(at, undefined).overall_rate, a.overall_rate, 'another stream differs')
  t.equal(new StreamSignal(bypass, 1, 'stream-b').statistics(at, undefined).input_rate, a.input_rate, 'streams fed by one input agree on its rate')
})

t.test('a wobble integral matches its derivative', async t => {
  const w = new Wobble(mulberry32(3), 0.03)
  const h = 1e-3
  for (const x of [0, 10, 1234.5, 1e6]) {
    const numeric = w.between(x, x + h) / h
    t.ok(Math.abs(numeric - w.at(x + h / 2)) < 1e-6, `d/dt at ${x}`)
  }
  t.equal(w.between(5, 5), 0)
})

t.test('device load: idle figures, then more with every running stream, network counted once per input', async t => {
  const idle = deviceLoad([])
  t.same(idle, { cpuPercent: 3.5, memoryPercent: 31.2, receivedMbps: 0, sentMbps: 0 })
  const span = { since: START, now: START + 30 }
  const one = deviceLoad([{ signal: new StreamSignal(transcoding, 1, 'a'), span }])
  const two = deviceLoad([{ signal: new StreamSignal(transcoding, 1, 'a'), span }, { signal: new StreamSignal(bypass, 1, 'b'), span }])
  t.ok(one.cpuPercent > idle.cpuPercent && two.cpuPercent > one.cpuPercent, 'CPU grows with streams')
  t.ok(one.memoryPercent > idle.memoryPercent, 'memory grows with streams')
  t.ok(Math.abs(one.receivedMbps - 8) < 0.3, `about 8 Mbps received (${one.receivedMbps})`)
  t.equal(two.receivedMbps, one.receivedMbps, 'the shared input is received once')
  t.ok(two.sentMbps > one.sentMbps + 7.5, 'the Bypass copy adds its output')
  for (const v of Object.values(two)) t.equal(Math.round(v * 100) / 100, v, 'two decimals')
})
