// What the real-browser tests share: Debian's Chromium through playwright-core (nothing is
// downloaded), fresh browser profiles, a browser "restart" that keeps only persistent cookies,
// and screenshots saved under docs/images/ for the README.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--font-render-hinting=none',
]
/** Where the README's screenshots live. */
export const IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url))
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
export const EVIL_HOST = 'evil.example'

/**
 * False (and the test skipped with the reason) when Chromium is missing outside CI; in CI a
 * missing browser fails the test, since .ci/run installs it.
 */
export function chromiumAvailable(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true
  const reason = `chromium missing: .ci/run installs it (${CHROMIUM} not found)`
  if (process.env.CI === 'true') assert.fail(reason)
  console.log(`skipping the real-browser test: ${reason}`)
  t.skip(reason)
  return false
}

/** Listens on a free loopback port; returns the origin and closes it when the test ends. */
export async function listen(
  t: TestContext,
  app: { listen(port: number, host: string, ready: () => void): Server },
): Promise<string> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
  t.after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A browser for one test file, closed at its end. */
export async function launch(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.after(() => browser.close())
  return browser
}

export interface Profile {
  readonly context: BrowserContext
  readonly page: Page
  /** Requests the pages tried to make to evil.example (recorded, then aborted). */
  readonly evil: string[]
}

/** A fresh browser profile: its own cookies, a fixed window size, evil.example blocked. */
export async function newProfile(t: TestContext, browser: Browser): Promise<Profile> {
  const context = await browser.newContext({
    viewport: { width: 960, height: 720 },
    deviceScaleFactor: 1,
  })
  context.setDefaultTimeout(10_000)
  const evil: string[] = []
  await context.route(
    (url) => url.hostname === EVIL_HOST,
    (route) => {
      evil.push(route.request().url())
      return route.abort()
    },
  )
  t.after(() => context.close())
  return { context, page: await context.newPage(), evil }
}

/** Quits the browser and starts it again: only cookies with an expiry survive. */
export async function restart(t: TestContext, browser: Browser, old: Profile): Promise<Profile> {
  const persistent = (await old.context.cookies()).filter((c) => c.expires !== -1)
  await old.context.close()
  const profile = await newProfile(t, browser)
  if (persistent.length > 0) await profile.context.addCookies(persistent)
  return profile
}

/** The visible text of the page's main content. */
export async function mainText(page: Page): Promise<string> {
  return ((await page.textContent('main')) ?? '').replace(/\s+/g, ' ').trim()
}

/** Saves a screenshot of the page as docs/images/<name>.png and checks it is a PNG. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(IMAGES, `${name}.png`)
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' })
  const bytes = await readFile(path)
  assert.ok(bytes.length > 1000, `${name}.png is not empty`)
  assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE)
}

/** Clicks a submit button and waits for the page the POST leads to (after redirects). */
export async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(selector)])
  await page.waitForLoadState('load')
}

export function describeCookies(cookies: readonly { name: string; expires: number }[]): string {
  return JSON.stringify(cookies.map((c) => ({ name: c.name, expires: c.expires })))
}
