// The live page in a real headless Chromium (issue 17, acceptance 1), driven by the manual clock:
// nothing here waits for time to pass, only for the page to show what the emulator pushed.
// One browser for the file; each signed-in viewer has its own context (its own cookie jar).
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { startHttps, loginHttps, send } from './helpers/https.ts'
import { browserSkip, launchChromium, sameOriginContext } from './helpers/browser.ts'

const skip = browserSkip('the live page browser test')

interface Stream { uuid: string, name: string, status: string }

t.test('the live page', { skip }, async t => {
  const emu = await startHttps({ clock: 'manual', transitionMs: 5000, sessionTimeout: 600 })
  t.teardown(() => emu.close())
  const admin = await loginHttps(emu)
  const clock = async (advance_ms: number) => t.equal((await send(emu, 'POST', '/_emulator/clock', { body: { advance_ms } })).status, 200, `clock +${advance_ms} ms`)
  const streams = () => send(emu, 'GET', '/apis/v2/streams', { cookie: admin }).then(r => (r.json() as { stream_list: Stream[] }).stream_list)
  // The fixture's auto-start streams are starting: let them run, so what follows starts from rest.
  await clock(5000)
  const stopped = (await streams()).filter(s => s.status === 'stopped')
  t.ok(stopped.length >= 3, `${stopped.length} stopped streams to work with`)
  const [watched, pressed, renamed] = stopped as [Stream, Stream, Stream]

  const browser: Browser = await launchChromium()
  t.teardown(() => browser.close())
  const foreign: string[] = []
  const problems: string[] = []
  const open = async (): Promise<Page> => {
    const context = await sameOriginContext(browser, emu.url, foreign)
    t.teardown(() => context.close())
    const page = await context.newPage()
    page.on('pageerror', error => problems.push(error.message))
    page.on('dialog', dialog => { problems.push(`a dialog opened: ${dialog.message()}`); void dialog.dismiss() })
    return page
  }
  const logIn = async (page: Page, username: string) => {
    await page.goto(`${emu.url}/`)
    await page.locator('#login-view').waitFor()
    await page.getByLabel('Account').fill(username)
    await page.getByLabel('Password').fill('krakenapi')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.locator('li.card').first().waitFor()
  }
  const card = (page: Page, stream: Stream) => page.locator(`li.card[data-uuid="${stream.uuid}"]`)
  const status = (page: Page, stream: Stream, text: string) => card(page, stream).locator('.s-status', { hasText: new RegExp(`^${text}$`) }).waitFor()

  const operator = await open()
  const viewer = await open()

  await t.test('the guard against other origins works', async t => {
    // So that "no foreign request" below means something: one is blocked and recorded.
    await t.rejects(viewer.goto('https://foreign.example/probe'), 'a navigation elsewhere is aborted')
    t.same(foreign.splice(0), ['https://foreign.example/probe'], 'and recorded')
  })

  await t.test('logs in through the page', async t => {
    const first = await operator.goto(`${emu.url}/`)
    t.equal(first?.status(), 200)
    t.equal(first?.headers()['content-security-policy']?.includes("script-src 'self'"), true, 'served with the CSP')
    await logIn(operator, 'operator')
    t.equal(await operator.locator('li.card').count(), 5, 'a card per stream')
    t.equal(await operator.locator('#d-viewer').innerText(), 'operator (Operator)')
    t.ok((await operator.locator('#d-hostname').innerText()).length > 0, 'the device panel')
    await logIn(viewer, 'user')
    t.equal(await viewer.locator('li.card').count(), 5)
    t.equal(await viewer.evaluate(`fetch('https://foreign.example/x').then(() => 'sent', () => 'refused')`), 'refused', 'a fetch elsewhere is refused')
    t.same(foreign, [], 'by the page\'s CSP, before it left')
  })

  await t.test('a stream started by another client: starting, then running once the clock passes the transition', async t => {
    t.equal((await send(emu, 'PUT', `/apis/v2/streams/stream-${watched.uuid}/start`, { cookie: admin })).status, 200)
    await status(operator, watched, 'starting')
    await status(viewer, watched, 'starting')
    t.pass('both pages show starting')
    await clock(5000)
    await status(operator, watched, 'running')
    await status(viewer, watched, 'running')
    t.pass('both pages show running')
    // Figures arrive with the next second's statistics.
    await card(operator, watched).locator('.s-bitrate', { hasText: /Mb\/s/ }).waitFor()
    t.pass('with its bitrate')
    const picture = card(operator, watched).locator('img.thumb')
    await picture.waitFor({ state: 'visible' })
    t.match(await picture.getAttribute('src'), /^blob:/, 'and its picture (the thumbnail route, fetched by the page)')
    await operator.waitForFunction(`(() => { const i = document.querySelector('li.card[data-uuid="${watched.uuid}"] img.thumb'); return i !== null && i.complete && i.naturalWidth > 0 })()`)
    t.pass('decoded: a real image')
  })

  await t.test('a device event: error and its reason', async t => {
    t.equal((await send(emu, 'POST', '/_emulator/device/events', { body: { type: 'input-lost', stream: watched.uuid } })).status, 200)
    await status(operator, watched, 'error')
    const reason = await card(operator, watched).locator('.s-sub').innerText()
    t.match(reason, /^input lost: nothing arrives from input '/, 'the sub_status shown')
  })

  await t.test('the feed shows the other client\'s requests and hides what a Viewer may not read', async t => {
    t.equal((await send(emu, 'GET', '/apis/v2/accounts/account-operator', { cookie: admin })).status, 200)
    t.equal((await send(emu, 'GET', '/apis/v2/systeminfo', { cookie: admin })).status, 200)
    const line = (page: Page, path: string) => page.locator('#feed li', { has: page.locator('.f-path', { hasText: path }) })
    for (const page of [operator, viewer]) {
      await line(page, `/apis/v2/streams/stream-${watched.uuid}/start`).first().waitFor()
      await line(page, '/apis/v2/systeminfo').first().waitFor()
    }
    t.match(await line(operator, '/apis/v2/systeminfo').first().innerText(), /haiadmin/, 'the Operator sees who sent it')
    t.equal(await line(operator, '/apis/v2/accounts/account-operator').count(), 1, 'the Operator sees the account request')
    t.equal(await line(viewer, '/apis/v2/accounts/account-operator').count(), 0, 'the Viewer does not see another account\'s path')
    t.notMatch(await viewer.locator('#feed').innerText(), /haiadmin/, 'nor the name of an account it may not see')
  })

  await t.test('buttons work for an Operator and are absent for a Viewer', async t => {
    t.equal(await card(viewer, pressed).getByRole('button', { name: /^Start / }).count(), 0, 'no Start for a Viewer')
    t.equal(await viewer.getByRole('button', { name: /^(Start|Stop) / }).count(), 0, 'no Start or Stop anywhere for a Viewer')
    const start = card(operator, pressed).getByRole('button', { name: `Start ${pressed.name}` })
    await start.focus()
    await operator.keyboard.press('Enter')
    await status(operator, pressed, 'starting')
    await status(viewer, pressed, 'starting')
    await clock(5000)
    await status(operator, pressed, 'running')
    const line = operator.locator('#feed li', { has: operator.locator('.f-path', { hasText: `/apis/v2/streams/stream-${pressed.uuid}/start` }) })
    await line.first().waitFor()
    t.match(await line.first().innerText(), /by operator/, 'the press is a public API request, in the feed like any client\'s')
    await card(operator, pressed).getByRole('button', { name: `Stop ${pressed.name}` }).click()
    await status(viewer, pressed, 'stopping')
    await clock(5000)
    await status(viewer, pressed, 'stopped')
    t.pass('start and stop through the keyboard and the mouse')
    t.equal(await operator.locator('#control-buttons').isVisible(), true, 'on loopback the device events are offered')
  })

  await t.test('the large-type switch', async t => {
    await operator.getByRole('button', { name: 'Large type' }).click()
    t.equal(await operator.evaluate('document.documentElement.classList.contains("large")'), true)
    t.equal(await operator.getByRole('button', { name: 'Large type' }).getAttribute('aria-pressed'), 'true')
    await operator.getByRole('button', { name: 'Large type' }).click()
    t.equal(await operator.evaluate('document.documentElement.classList.contains("large")'), false)
  })

  await t.test('a stream named like a script runs nothing', async t => {
    const names = ['<img src=x onerror="window.__pwned=1">', '<script>window.__pwned=2</script>']
    for (const name of names) {
      const res = await send(emu, 'PUT', `/apis/v2/streams/stream-${renamed.uuid}`, { cookie: admin, body: { name } })
      t.equal(res.status, 200, res.text)
      const heading = card(viewer, renamed).locator('h3.s-name')
      await heading.filter({ hasText: name }).waitFor()
      t.equal(await heading.innerText(), name, 'the name is shown as text')
      await viewer.locator('#feed .f-path', { hasText: `/apis/v2/streams/stream-${renamed.uuid}` }).first().waitFor()
    }
    t.equal(await viewer.evaluate('window.__pwned'), undefined, 'no handler and no script ran')
    t.equal(await viewer.locator('#live-view img[src="x"], #live-view script').count(), 0, 'no element was made from a name')
    // And should one ever be: the CSP refuses inline script whatever inserts it.
    // (Strings: this file is type-checked without the DOM library.)
    const blocked = await viewer.evaluate(`new Promise(resolve => {
      document.addEventListener('securitypolicyviolation', () => resolve(true), { once: true })
      const script = document.createElement('script')
      script.textContent = 'window.__pwned = 3'
      document.body.append(script)
    })`)
    t.equal(blocked, true, 'an inline script is a CSP violation')
    t.equal(await viewer.evaluate('window.__pwned'), undefined, 'and does not run')
  })

  await t.test('the session ends: the page returns to its login and says why', async t => {
    await operator.getByRole('button', { name: 'Log out' }).click()
    await operator.locator('#login-view').waitFor()
    t.match(await operator.locator('#notice').innerText(), /logged out/)
    t.equal((await operator.reload())?.status(), 200)
    await operator.locator('#login-view').waitFor()
    t.pass('after a reload too: the session is gone')

    await clock(601_000)
    await viewer.locator('#login-view').waitFor()
    t.match(await viewer.locator('#notice').innerText(), /timed out/, 'an idle session times out')
    t.equal(await viewer.locator('#live-view').isVisible(), false, 'the live view is gone')
  })

  t.same(foreign, [], 'no request left for another origin (each would have been blocked)')
  t.same(problems, [], 'no script error, no dialog')
})
