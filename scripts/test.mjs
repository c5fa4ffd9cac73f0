#!/usr/bin/env node
// The one test command: type check, lint, then every tap test, closing with the plain
// summary line `N passed, N failed` that CI reads. Exits non-zero on any failure, and on a
// run that executed no test at all.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

const ci = process.env.CI === 'true' || process.env.CI === '1'
let passed = 0
let failed = 0

/** Runs one step, streaming its output as it comes (and keeping stdout to read tap's summary). */
function step (name, cmd, args, env = {}) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`)
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', chunk => { stdout += chunk; process.stdout.write(chunk) })
    child.once('error', error => { console.error(`${name}: ${error.message}`); resolve({ status: 1, stdout }) })
    child.once('close', status => resolve({ status, stdout }))
  })
}

const tsc = await step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json'])
if (tsc.status === 0) passed++; else failed++

const lint = await step('lint', 'npx', ['eslint', '.'])
if (lint.status === 0) passed++; else failed++

// Browser tests need Debian's chromium. On a developer machine without it we say so and run the
// rest; in CI a missing browser is a failure, never a silent skip.
const chromium = process.env.KRAKEN_CHROMIUM ?? '/usr/bin/chromium'
const env = {}
if (!existsSync(chromium)) {
  if (ci) {
    console.error(`\nCI: ${chromium} is missing; the browser tests cannot run (install the Debian package chromium).`)
    failed++
  } else {
    console.error(`\nNOTE: ${chromium} is missing, so the /apidoc browser tests are skipped on this machine.` +
      '\n      Install it with: apt-get install -y chromium   (CI installs it and treats its absence as a failure)')
  }
  env.KRAKEN_NO_BROWSER = '1'
}

const files = process.argv.slice(2)
const tap = await step('tap', 'npx', ['tap', ...files], env)
const summary = [...(tap.stdout ?? '').matchAll(/^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?.*\}$/gm)].pop()
if (!summary) {
  console.error('tap printed no summary: counting the whole tap run as one failure')
  failed++
} else {
  const total = Number(summary[1])
  const pass = Number(summary[2] ?? 0)
  const fail = Number(summary[3] ?? 0)
  passed += pass
  failed += fail
  if (total === 0) {
    console.error('tap ran no test: that is a failure')
    failed++
  }
  if (tap.status !== 0 && fail === 0) {
    console.error(`tap exited with status ${tap.status} without a failed assertion (a crashed or timed-out file)`)
    failed++
  }
}

console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
