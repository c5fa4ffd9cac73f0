import { chromium, type Browser, type BrowserContext } from 'playwright-core'

/** Debian's chromium (no browser download); KRAKEN_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.KRAKEN_CHROMIUM ?? '/usr/bin/chromium'

/**
 * A browser test's `skip`: `npm test` (scripts/test.mjs) sets KRAKEN_NO_BROWSER=1 when chromium is
 * missing and says so; under CI=true it fails the run instead, so a browser test is never silently skipped there.
 */
export function browserSkip (what: string): string | false {
  return process.env.KRAKEN_NO_BROWSER === '1'
    ? `KRAKEN_NO_BROWSER=1: ${CHROMIUM} is missing, so ${what} cannot run here (apt-get install -y chromium)`
    : false
}

/** One headless Chromium for a whole test file (each viewer gets its own context: its own cookies). */
export async function launchChromium (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/**
 * A context at 1280x800 that trusts the emulator's self-signed certificate and lets no request
 * leave `origin`: each one elsewhere is aborted and recorded in `foreign`.
 */
export async function sameOriginContext (browser: Browser, origin: string, foreign: string[]): Promise<BrowserContext> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } })
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (url.startsWith(origin + '/') || url.startsWith('blob:' + origin) || url.startsWith('data:')) return route.continue()
    foreign.push(url)
    return route.abort('blockedbyclient')
  })
  return context
}
