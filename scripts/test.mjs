#!/usr/bin/env node
// The one test command: type check, lint, then every tap test, closing with the plain
// summary line `N passed, N failed` that CI reads. Exits non-zero on any failure, and on a
// run that executed no test at all.
//
// Expensive setup is done once per run, while the type check and the lint use the other core:
// `npm pack` (whose prepack script builds dist/). The package test installs that tarball, and the
// tests that start the command line run that dist/cli.js, instead of each packing or transpiling
// their own (test/helpers/prepared.ts; run alone, a test file falls back to doing it itself).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ci = process.env.CI === 'true' || process.env.CI === '1'
const started = Date.now()
let passed = 0
let failed = 0

/** Runs one step, streaming its output as it comes (and keeping stdout to read tap's summary). */
function step (name, cmd, args, env = {}) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`)
  return new Promise(resolve => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', chunk => { stdout += chunk; process.stdout.write(chunk) })
    child.once('error', error => { console.error(`${name}: ${error.message}`); resolve({ status: 1, stdout }) })
    child.once('close', status => resolve({ status, stdout }))
  })
}

/** Runs one step of several at once: its output is kept and printed in one block when it ends. */
function quietStep (name, cmd, args) {
  const started = Date.now()
  return new Promise(resolve => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    let stdout = ''
    let output = ''
    child.stdout.setEncoding('utf8').on('data', chunk => { stdout += chunk; output += chunk })
    child.stderr.setEncoding('utf8').on('data', chunk => { output += chunk })
    const done = status => {
      console.log(`\n=== ${name}: ${cmd} ${args.join(' ')} (${status === 0 ? 'ok' : `failed, status ${status}`}, ${((Date.now() - started) / 1000).toFixed(1)} s)`)
      if (status !== 0 || name !== 'pack') process.stdout.write(output)
      resolve({ status, stdout })
    }
    child.once('error', error => { output += `${error.message}\n`; done(1) })
    child.once('close', done)
  })
}

const files = process.argv.slice(2)
// Packing is for the package test (and gives the CLI tests their build): always on a full run,
// and when a named file needs it.
const pack = files.length === 0 || files.some(f => /package\.test\.ts$/.test(f))
const packDir = pack ? await mkdtemp(join(tmpdir(), 'kraken-test-pack-')) : undefined

const [tsc, lint, packed] = await Promise.all([
  quietStep('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json']),
  quietStep('lint', 'npx', ['eslint', '.']),
  packDir === undefined ? undefined : quietStep('pack', 'npm', ['pack', '--json', '--pack-destination', packDir])
])
if (tsc.status === 0) passed++; else failed++
if (lint.status === 0) passed++; else failed++

const env = {}
if (packed !== undefined) {
  if (packed.status === 0 && existsSync(join(ROOT, 'dist', 'cli.js'))) {
    passed++
    const json = join(packDir, 'pack.json')
    await writeFile(json, packed.stdout.slice(packed.stdout.indexOf('[')))
    env.KRAKEN_TEST_PACK_JSON = json
    env.KRAKEN_TEST_CLI = join(ROOT, 'dist', 'cli.js')
  } else {
    failed++
  }
}

// Browser tests need Debian's chromium. On a developer machine without it we say so and run the
// rest; in CI a missing browser is a failure, never a silent skip.
const chromium = process.env.KRAKEN_CHROMIUM ?? '/usr/bin/chromium'
if (!existsSync(chromium)) {
  if (ci) {
    console.error(`\nCI: ${chromium} is missing; the browser tests cannot run (install the Debian package chromium).`)
    failed++
  } else {
    console.error(`\nNOTE: ${chromium} is missing, so the browser tests (/apidoc, the live page) are skipped on this machine.` +
      '\n      Install it with: apt-get install -y chromium   (CI installs it and treats its absence as a failure)')
  }
  env.KRAKEN_NO_BROWSER = '1'
}

const tap = await step('tap', 'npx', ['tap', ...files], env)
if (packDir !== undefined) await rm(packDir, { recursive: true, force: true })
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

console.log(`\nnpm test took ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
