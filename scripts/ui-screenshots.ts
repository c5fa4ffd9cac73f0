// Regenerates the live page's screenshots in docs/ (README, "The live page"):
//   npx tsx scripts/ui-screenshots.ts
// The default fixture with --seed 1 on a manual clock: the auto-start streams run, another client
// starts one more and makes a few requests, one stream loses its input. Needs Debian's chromium.
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { Agent, fetch } from 'undici'
import { startEmulator } from '../src/start-emulator.ts'

const DOCS = fileURLToPath(new URL('../docs/', import.meta.url))
const CHROMIUM = process.env.KRAKEN_CHROMIUM ?? '/usr/bin/chromium'

const emu = await startEmulator({ port: 0, inMemory: true, logLevel: 'silent', clock: 'manual', seed: 1, transitionMs: 5000 })
const headers = { 'content-type': 'application/json' }
// Trust exactly the emulator's self-signed certificate.
const dispatcher = new Agent({ connect: { ca: emu.certificate, servername: 'localhost' } })
async function api (method: string, path: string, cookie?: string, body?: unknown) {
  const res = await fetch(emu.url + path, { method, dispatcher, headers: { ...headers, ...(cookie === undefined ? {} : { cookie }) }, body: body === undefined ? undefined : JSON.stringify(body) })
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res
}

try {
  await api('POST', '/_emulator/clock', undefined, { advance_ms: 5000 })
  const login = await api('POST', '/apis/v2/login', undefined, { username: 'operator', password: 'krakenapi' })
  const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]!).find(c => c.startsWith('id='))
  const streams = (await (await api('GET', '/apis/v2/streams', cookie)).json() as { stream_list: Array<{ uuid: string, status: string, mode: string }> }).stream_list
  const stopped = streams.filter(s => s.status === 'stopped')
  const running = streams.filter(s => s.status === 'running')

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  await page.goto(`${emu.url}/`)
  await page.getByLabel('Account').fill('haiadmin')
  await page.getByLabel('Password').fill('krakenapi')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.locator('li.card').first().waitFor()

  // Another client at work: it reads, starts a stream, and a device event breaks one.
  await api('GET', '/apis/v2/systeminfo', cookie)
  await api('GET', '/apis/v2/license', cookie)
  if (stopped[0] !== undefined) await api('PUT', `/apis/v2/streams/stream-${stopped[0].uuid}/start`, cookie)
  if (running[1] !== undefined) await api('POST', '/_emulator/device/events', undefined, { type: 'input-lost', stream: running[1].uuid })
  await api('GET', '/apis/v2/streams?full=true', cookie)
  // A few seconds of statistics, so the sparklines have something to draw (pushed once a second).
  for (let i = 0; i < 8; i++) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    await api('POST', '/_emulator/clock', undefined, { advance_ms: 1000 })
  }
  await page.screenshot({ path: `${DOCS}live-page.png` })
  await page.getByRole('button', { name: 'Large type' }).click()
  await page.screenshot({ path: `${DOCS}live-page-large.png` })
  await browser.close()
  console.log(`wrote ${DOCS}live-page.png and ${DOCS}live-page-large.png`)
} finally {
  await dispatcher.close()
  await emu.close()
}
