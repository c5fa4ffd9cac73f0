// /apidoc in a real headless Chromium: the page renders, shows every resource tag, logs in through
// "Try it out" and then lists streams with the session cookie (issue 3, acceptance 4).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { chromium, type Page } from 'playwright-core'
import { resources } from '../src/resources/index.ts'
import { startHttps } from './helpers/https.ts'

const CHROMIUM = process.env.KRAKEN_CHROMIUM ?? '/usr/bin/chromium'
const SCREENSHOTS = process.env.KRAKEN_SCREENSHOTS ?? tmpdir()
const skip = process.env.KRAKEN_NO_BROWSER === '1'
  ? `KRAKEN_NO_BROWSER=1: ${CHROMIUM} is missing, so the /apidoc browser test cannot run here (apt-get install -y chromium)`
  : false

/** Expands an operation, presses "Try it out", optionally fills the body, executes, returns the status shown. */
async function tryItOut (page: Page, id: string, body?: unknown): Promise<{ status: string, text: string }> {
  const op = page.locator(`#${id}`)
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  if (body !== undefined) await op.locator('textarea.body-param__text').fill(JSON.stringify(body))
  await op.locator('button.execute').click()
  const status = op.locator('.live-responses-table .response .response-col_status').first()
  await status.waitFor({ timeout: 15_000 })
  const text = await op.locator('.live-responses-table').first().innerText()
  return { status: (await status.innerText()).trim(), text }
}

t.test('/apidoc: tags, login through Try it out, then the stream list', { skip }, async t => {
  const emu = await startHttps()
  t.teardown(() => emu.close())
  const profile = await mkdtemp(path.join(tmpdir(), 'kraken-chromium-'))
  t.teardown(() => rm(profile, { recursive: true, force: true }))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => context.close())
  const page = context.pages()[0] ?? await context.newPage()
  // Every asset is local: a request leaving the emulator's origin fails the test.
  const foreign: string[] = []
  page.on('request', request => { if (!request.url().startsWith(emu.url) && !request.url().startsWith('data:')) foreign.push(request.url()) })
  const problems: string[] = []
  page.on('pageerror', error => problems.push(error.message))

  const response = await page.goto(`${emu.url}/apidoc`)
  t.equal(response?.status(), 200, '/apidoc answers 200')
  await page.locator('.swagger-ui .opblock-tag').first().waitFor({ timeout: 20_000 })
  const tags = await page.locator('.opblock-tag').allInnerTexts()
  const shown = tags.map(text => text.split('\n')[0]!.trim())
  for (const tag of new Set(['Session', ...resources.map(r => r.tag)])) t.ok(shown.includes(tag), `the ${tag} tag is shown`)
  await page.screenshot({ path: path.join(SCREENSHOTS, 'kraken-apidoc.png'), fullPage: false })

  const login = await tryItOut(page, 'operations-Session-login', { username: 'haiadmin', password: 'krakenapi' })
  t.equal(login.status, '204', 'login through Try it out: 204')
  const cookies = await context.cookies(emu.url)
  const id = cookies.find(c => c.name === 'id')
  t.ok(id !== undefined && id.httpOnly && id.secure, 'the browser holds the HttpOnly, Secure id cookie')

  const list = await tryItOut(page, 'operations-Streams-listStreams')
  t.equal(list.status, '200', 'list streams through the page: 200')
  t.match(list.text, 'stream_list', 'the page shows stream_list')
  await page.locator('#operations-Streams-listStreams .live-responses-table').first().screenshot({ path: path.join(SCREENSHOTS, 'kraken-apidoc-streams.png') })

  t.same(foreign, [], 'no request left the emulator (every asset is served locally)')
  t.same(problems, [], 'no script error on the page')
})
