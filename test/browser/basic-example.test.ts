// The basic example driven by a real browser: Debian's Chromium through playwright-core (nothing
// is downloaded). Cookie attributes, redirects and remember-me are checked the way a browser
// applies them, not the way a test HTTP client does. The screenshots it takes are the README's.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import type { Page } from 'playwright-core'
import { createApp } from '../../examples/basic/express.ts'
import {
  chromiumAvailable,
  describeCookies,
  launch,
  listen,
  mainText,
  newProfile,
  restart,
  screenshot,
  submit,
} from './browser.ts'

const USER = 'leafstorm'
const PASSWORD = 'secret'

test('basic example in a real browser (Chromium)', { timeout: 90_000 }, async (t) => {
  if (!chromiumAvailable(t)) return
  const origin = await listen(t, createApp(randomBytes(32).toString('base64url')))
  const browser = await launch(t)

  /** Fills and submits the login form the page is on; returns the POST's response. */
  async function submitLogin(page: Page, password: string, remember: boolean) {
    assert.equal(await page.textContent('label[for=email]'), 'User name')
    assert.equal(await page.textContent('label[for=password]'), 'Password')
    await page.fill('#email', USER)
    await page.fill('#password', password)
    if (remember) await page.check('#remember')
    else assert.equal(await page.isChecked('#remember'), false)
    const posted = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
    )
    await submit(page, 'form.card button[type=submit]')
    return posted
  }

  /** Logs in from /login (or the form the page is already on) and lands on /protected. */
  async function logIn(page: Page, remember: boolean, from: string | null = '/login') {
    if (from !== null) await page.goto(origin + from)
    const response = await submitLogin(page, PASSWORD, remember)
    assert.equal(response.status(), 303)
    assert.equal(response.headers().location, '/protected', 'redirected to /protected only')
    await page.waitForURL((url) => url.pathname === '/protected')
    assert.equal(new URL(page.url()).origin, origin)
    assert.match(await mainText(page), new RegExp(`Logged in as: ${USER}`))
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
    assert.doesNotMatch(await mainText(page), /Logged in as/)
  }

  await t.test('anonymous visit to /protected lands on the labelled login form', async () => {
    const { page } = await newProfile(t, browser)
    await page.goto(`${origin}/`)
    assert.match(await mainText(page), /You are not logged in\./)
    assert.equal(await page.isVisible('header >> text=Log in'), true)
    await assertRefused(page)
    assert.match(await mainText(page), /Please log in to access this page\./)
    assert.equal(
      await page.getAttribute('form.card', 'action'),
      '/login?next=%2Fprotected',
      'the form posts back with next',
    )
    assert.equal(await page.getAttribute('#email', 'placeholder'), null, 'labels, no placeholders')
    // A string, run in the page: the project compiles without the DOM library.
    const radius = await page.evaluate(
      'getComputedStyle(document.querySelector("form.card")).borderTopLeftRadius',
    )
    assert.equal(radius, '9.6px', 'the stylesheet (/style.css) is applied')
    await screenshot(page, 'basic-login')
  })

  await t.test('a wrong password says "Bad login" on the form, which keeps next', async () => {
    const { context, page } = await newProfile(t, browser)
    await assertRefused(page)
    const response = await submitLogin(page, 'not-the-password', false)
    assert.equal(response.status(), 401)
    assert.match(await mainText(page), /Bad login: that user name and password do not match\./)
    assert.equal(await page.getAttribute('form.card', 'action'), '/login?next=%2Fprotected')
    assert.equal(await page.inputValue('#email'), USER, 'the user name is kept')
    assert.equal(await page.inputValue('#password'), '', 'the password is not')
    await screenshot(page, 'basic-bad-login')
    assert.deepEqual(
      (await context.cookies()).filter((c) => c.name.includes('remember')),
      [],
      'no remember cookie after a failed login',
    )
    // The form still works: the right password goes where the visitor was going.
    await logIn(page, false, null)
  })

  await t.test('remember me survives a browser restart; logout ends it for good', async () => {
    const first = await newProfile(t, browser)
    await logIn(first.page, true)
    await screenshot(first.page, 'basic-protected')

    const cookies = await first.context.cookies()
    const persistent = cookies.filter((c) => c.expires !== -1)
    assert.equal(
      persistent.length,
      1,
      `one persistent (remember) cookie: ${describeCookies(cookies)}`,
    )
    const remember = persistent[0]!
    const days = (remember.expires - Date.now() / 1000) / 86_400
    assert.ok(days > 29 && days <= 30.01, `remember cookie lasts 30 days, got ${days.toFixed(2)}`)
    assert.equal(remember.httpOnly, true)
    assert.equal(remember.secure, true)
    assert.equal(remember.sameSite, 'Lax')

    const second = await restart(t, browser, first)
    const back = await second.page.goto(`${origin}/protected`)
    assert.equal(back?.status(), 200)
    assert.match(await mainText(second.page), new RegExp(`Logged in as: ${USER}`))

    // Flask-Login's README logs out with a GET.
    await second.page.goto(`${origin}/logout`)
    assert.match(await mainText(second.page), /^Logged out /)
    await assertRefused(second.page)

    const left = await second.context.cookies()
    assert.deepEqual(
      left.filter((c) => c.expires !== -1),
      [],
      `logout removes the remember cookie: ${describeCookies(left)}`,
    )
    const third = await restart(t, browser, second)
    await assertRefused(third.page)
  })

  await t.test('the home page knows who is logged in; the log-out button posts', async () => {
    const { page } = await newProfile(t, browser)
    await logIn(page, false)
    await page.goto(`${origin}/`)
    assert.match(await mainText(page), new RegExp(`You are logged in as ${USER}\\.`))
    assert.equal(await page.isVisible('header >> text=Log in'), false, 'no "Log in" when logged in')
    await page.goto(`${origin}/protected`)
    const posted = page.waitForRequest((r) => new URL(r.url()).pathname === '/logout')
    await submit(page, 'main form[action="/logout"] button')
    assert.equal((await posted).method(), 'POST')
    assert.match(await mainText(page), /^Logged out /)
    await assertRefused(page)
  })

  await t.test('without remember me the login ends with the browser', async () => {
    const first = await newProfile(t, browser)
    await logIn(first.page, false)
    const cookies = await first.context.cookies()
    assert.deepEqual(
      cookies.filter((c) => c.expires !== -1),
      [],
      `only session cookies: ${describeCookies(cookies)}`,
    )
    const again = await first.page.goto(`${origin}/protected`)
    assert.equal(again?.status(), 200, '/protected still works before the restart')

    const second = await restart(t, browser, first)
    await assertRefused(second.page)
  })

  await t.test('a safe next is followed and an unsafe next is ignored', async () => {
    const safe = await newProfile(t, browser)
    await assertRefused(safe.page)
    await logIn(safe.page, false, null)

    for (const next of ['//evil.example/', 'https://evil.example/']) {
      const { page, evil } = await newProfile(t, browser)
      await page.goto(`${origin}/login?next=${encodeURIComponent(next)}`)
      assert.equal(
        await page.getAttribute('form.card', 'action'),
        `/login?next=${encodeURIComponent(next)}`,
      )
      await logIn(page, false, null)
      assert.deepEqual(evil, [], `no request to evil.example for next=${next}`)
    }
  })

  await t.test(
    'the session cookie is HttpOnly, Secure, SameSite=Lax and hidden from JS',
    async () => {
      const { context, page } = await newProfile(t, browser)
      await logIn(page, false)
      const cookies = await context.cookies()
      const session = cookies.filter((c) => c.expires === -1)
      assert.equal(session.length, 1, `one session cookie: ${describeCookies(cookies)}`)
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
