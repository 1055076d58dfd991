// The basic example driven by a real browser: Debian's Chromium through playwright-core (nothing
// is downloaded). Cookie attributes, redirects and remember-me are checked the way a browser
// applies them, not the way a test HTTP client does.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { createApp } from '../../examples/basic/express.ts'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const USER = 'leafstorm'
const PASSWORD = 'secret'
const EVIL_HOST = 'evil.example'
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

test('basic example in a real browser (Chromium)', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const reason = `chromium missing: .ci/run installs it (${CHROMIUM} not found)`
    if (process.env.CI === 'true') assert.fail(reason)
    console.log(`skipping the real-browser test: ${reason}`)
    t.skip(reason)
    return
  }

  let server: Server | undefined
  let browser: Browser | undefined
  let shotDir: string | undefined
  t.after(async () => {
    await browser?.close()
    if (server !== undefined) {
      const s = server
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
    if (shotDir !== undefined) await rm(shotDir, { recursive: true, force: true })
  })

  const app = createApp(randomBytes(32).toString('base64url'))
  server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  const b = browser

  /** A fresh browser profile (context) whose requests to evil.example are recorded and aborted. */
  async function newContext(): Promise<{ context: BrowserContext; page: Page; evil: string[] }> {
    const context = await b.newContext()
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
  async function restart(old: BrowserContext): Promise<{ context: BrowserContext; page: Page }> {
    const persistent = (await old.cookies()).filter((c) => c.expires !== -1)
    await old.close()
    const { context, page } = await newContext()
    if (persistent.length > 0) await context.addCookies(persistent)
    return { context, page }
  }

  /** Fills and submits the login form the page is on; resolves once the next page has loaded. */
  async function submitLogin(page: Page, password: string, remember: boolean) {
    await page.fill('#email', USER)
    await page.fill('#password', password)
    if (remember) await page.check('#remember')
    else assert.equal(await page.isChecked('#remember'), false)
    const posted = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
    )
    await page.click('input[type=submit]')
    const response = await posted
    await page.waitForLoadState('load')
    return response
  }

  /** Logs in from /login (or the form the page is already on) and lands on /protected. */
  async function logIn(page: Page, remember: boolean, from: string | null = '/login') {
    if (from !== null) await page.goto(origin + from)
    const response = await submitLogin(page, PASSWORD, remember)
    assert.equal(response.status(), 303)
    assert.equal(response.headers().location, '/protected', 'redirected to /protected only')
    await page.waitForURL((url) => url.pathname === '/protected')
    assert.equal(new URL(page.url()).origin, origin)
    assert.equal(await bodyText(page), `Logged in as: ${USER}`)
  }

  async function bodyText(page: Page): Promise<string> {
    return ((await page.textContent('body')) ?? '').trim()
  }

  /** /protected sends the browser to the login form (302 to /login?next=%2Fprotected). */
  async function assertRefused(page: Page) {
    const response = await page.goto(`${origin}/protected`)
    assert.ok(response !== null)
    const url = new URL(page.url())
    assert.equal(url.origin, origin)
    assert.equal(`${url.pathname}${url.search}`, '/login?next=%2Fprotected')
    assert.equal(response.request().redirectedFrom()?.url(), `${origin}/protected`)
    assert.equal((await response.request().redirectedFrom()?.response())?.status(), 302)
    assert.equal(await page.isVisible('form #email'), true, 'the login form is shown')
    assert.doesNotMatch(await bodyText(page), /Logged in as/)
  }

  await t.test('anonymous visit to /protected lands on the login form', async () => {
    const { page } = await newContext()
    await assertRefused(page)
    assert.match(await bodyText(page), /Please log in to access this page\./)
    assert.equal(
      await page.getAttribute('form', 'action'),
      '/login?next=%2Fprotected',
      'the form posts back with next',
    )
  })

  await t.test("wrong password says 'Bad login' and /protected stays refused", async () => {
    const { context, page } = await newContext()
    await page.goto(`${origin}/login`)
    const response = await submitLogin(page, 'not-the-password', false)
    assert.equal(response.status(), 401)
    assert.equal(await bodyText(page), 'Bad login')
    assert.deepEqual(
      (await context.cookies()).filter((c) => c.name.includes('remember')),
      [],
      'no remember cookie after a failed login',
    )
    await assertRefused(page)
  })

  await t.test('remember me survives a browser restart; logout ends it for good', async () => {
    const first = await newContext()
    await logIn(first.page, true)

    shotDir = await mkdtemp(join(tmpdir(), 'login-manager-browser-'))
    const shot = join(shotDir, 'logged-in.png')
    await first.page.screenshot({ path: shot })
    assert.ok((await stat(shot)).size > 0, 'screenshot is non-empty')
    assert.deepEqual((await readFile(shot)).subarray(0, 8), PNG_SIGNATURE)

    const cookies = await first.context.cookies()
    const persistent = cookies.filter((c) => c.expires !== -1)
    assert.equal(persistent.length, 1, `one persistent (remember) cookie: ${describe(cookies)}`)
    const remember = persistent[0]!
    const days = (remember.expires - Date.now() / 1000) / 86_400
    assert.ok(days > 29 && days <= 30.01, `remember cookie lasts 30 days, got ${days.toFixed(2)}`)
    assert.equal(remember.httpOnly, true)
    assert.equal(remember.secure, true)
    assert.equal(remember.sameSite, 'Lax')

    const second = await restart(first.context)
    const back = await second.page.goto(`${origin}/protected`)
    assert.equal(back?.status(), 200)
    assert.equal(await bodyText(second.page), `Logged in as: ${USER}`)

    await second.page.goto(`${origin}/logout`)
    assert.equal(await bodyText(second.page), 'Logged out')
    await assertRefused(second.page)

    const left = await second.context.cookies()
    assert.deepEqual(
      left.filter((c) => c.expires !== -1),
      [],
      `logout removes the remember cookie: ${describe(left)}`,
    )
    const third = await restart(second.context)
    await assertRefused(third.page)
  })

  await t.test('without remember me the login ends with the browser', async () => {
    const first = await newContext()
    await logIn(first.page, false)
    const cookies = await first.context.cookies()
    assert.deepEqual(
      cookies.filter((c) => c.expires !== -1),
      [],
      `only session cookies: ${describe(cookies)}`,
    )
    const again = await first.page.goto(`${origin}/protected`)
    assert.equal(again?.status(), 200, '/protected still works before the restart')

    const second = await restart(first.context)
    await assertRefused(second.page)
  })

  await t.test('a safe next is followed and an unsafe next is ignored', async () => {
    const safe = await newContext()
    await assertRefused(safe.page)
    await logIn(safe.page, false, null)

    for (const next of ['//evil.example/', 'https://evil.example/']) {
      const { page, evil } = await newContext()
      await page.goto(`${origin}/login?next=${encodeURIComponent(next)}`)
      assert.equal(
        await page.getAttribute('form', 'action'),
        `/login?next=${encodeURIComponent(next)}`,
      )
      await logIn(page, false, null)
      assert.deepEqual(evil, [], `no request to ${EVIL_HOST} for next=${next}`)
    }
  })

  await t.test(
    'the session cookie is HttpOnly, Secure, SameSite=Lax and hidden from JS',
    async () => {
      const { context, page } = await newContext()
      await logIn(page, false)
      const cookies = await context.cookies()
      const session = cookies.filter((c) => c.expires === -1)
      assert.equal(session.length, 1, `one session cookie: ${describe(cookies)}`)
      for (const cookie of cookies) {
        assert.equal(cookie.httpOnly, true, `${cookie.name} is HttpOnly`)
        assert.equal(cookie.secure, true, `${cookie.name} is Secure`)
        assert.equal(cookie.sameSite, 'Lax', `${cookie.name} is SameSite=Lax`)
      }
      // The project compiles without the DOM library, hence the cast.
      const jsCookies = await page.evaluate(
        () => (globalThis as unknown as { document: { cookie: string } }).document.cookie,
      )
      assert.equal(jsCookies, '', 'document.cookie cannot read the login cookies')
    },
  )
})

function describe(cookies: readonly { name: string; expires: number }[]): string {
  return JSON.stringify(cookies.map((c) => ({ name: c.name, expires: c.expires })))
}
