// The account example (examples/account, with a MemoryStore as `SESSION_STORE=memory` gives it)
// clicked through in Chromium by two "devices": remember-me across a browser restart, the
// password asked again before an account change, flash messages after each redirect, and the
// devices page that lists, revokes and logs out the other device. Its screenshots are the
// README's.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { MemoryStore } from 'login-manager'
import type { Page } from 'playwright-core'
import { createApp } from '../../examples/account/express.ts'
import {
  chromiumAvailable,
  launch,
  listen,
  mainText,
  newProfile,
  restart,
  screenshot,
  submit,
} from './browser.ts'

test('account example in a real browser (Chromium)', { timeout: 90_000 }, async (t) => {
  if (!chromiumAvailable(t)) return
  const origin = await listen(
    t,
    createApp(randomBytes(32).toString('base64url'), new MemoryStore()),
  )
  const browser = await launch(t)
  const path = (page: Page) => {
    const url = new URL(page.url())
    return `${url.pathname}${url.search}`
  }

  /** From wherever the browser was sent to log in: fills the form and submits it. */
  async function logIn(page: Page, remember: boolean) {
    assert.equal(await page.textContent('label[for=username]'), 'User name')
    await page.fill('#username', 'leafstorm')
    await page.fill('#password', 'secret')
    if (remember) await page.check('#remember')
    await submit(page, 'form.card button[type=submit]')
  }

  // The laptop: the account page asks for a login first, then comes back with a welcome.
  const laptop = await newProfile(t, browser)
  await laptop.page.goto(`${origin}/account`)
  assert.equal(path(laptop.page), '/login?next=%2Faccount')
  assert.match(await mainText(laptop.page), /Please log in to access this page\./)
  await logIn(laptop.page, true)
  assert.equal(path(laptop.page), '/account')
  assert.match(await mainText(laptop.page), /^Welcome, Leaf Storm\. Your account /)
  assert.match(await mainText(laptop.page), /This login\s*fresh, remembered on this browser/)

  // A fresh login changes the e-mail address straight away; the message survives the redirect.
  await laptop.page.click('text=Change')
  assert.equal(path(laptop.page), '/account/email')
  await laptop.page.fill('#email', 'leaf@example.org')
  await submit(laptop.page, 'form.card button[type=submit]')
  assert.equal(path(laptop.page), '/account')
  assert.match(await mainText(laptop.page), /^Your e-mail address is now leaf@example\.org\./)
  await screenshot(laptop.page, 'account-overview')
  await laptop.page.reload()
  assert.doesNotMatch(await mainText(laptop.page), /Your e-mail address is now/, 'shown once')

  // The phone logs in with "remember me". The laptop's devices page lists both, marks itself,
  // and logs the phone out: its session and its remember-me cookie stop working.
  const phone = await newProfile(t, browser)
  await phone.page.goto(`${origin}/login`)
  await logIn(phone.page, true)
  assert.equal(path(phone.page), '/account')
  await laptop.page.goto(`${origin}/account/devices`)
  const rows = laptop.page.locator('ul.devices li')
  assert.equal(await rows.count(), 2)
  assert.match(await mainText(laptop.page), /This device\s*you are here\s*Logged in just now/)
  await screenshot(laptop.page, 'account-devices')
  await submit(laptop.page, 'ul.devices button:has-text("Log out this device")')
  assert.match(await mainText(laptop.page), /^That device is logged out\./)
  assert.equal(await rows.count(), 1)
  await phone.page.goto(`${origin}/account`)
  assert.equal(path(phone.page), '/login?next=%2Faccount', 'the revoked phone is logged out')
  const phoneRestarted = await restart(t, browser, phone)
  await phoneRestarted.page.goto(`${origin}/account`)
  assert.equal(
    path(phoneRestarted.page),
    '/login?next=%2Faccount',
    'and its remember-me cookie no longer logs it in',
  )

  // The phone logs in again with "remember me", and its browser is closed and opened again:
  // remember-me logs it back in, but not freshly.
  await logIn(phoneRestarted.page, true)
  const phoneLater = await restart(t, browser, phoneRestarted)
  await phoneLater.page.goto(`${origin}/account`)
  assert.equal(path(phoneLater.page), '/account', 'remember-me logged the phone back in')
  assert.match(
    await mainText(phoneLater.page),
    /This login\s*remembered, remembered on this browser/,
  )

  // A remembered login confirms the password before an account change, then lands on the form
  // it asked for (a GET), not on the POST-only action.
  await phoneLater.page.click('text=Change')
  assert.equal(path(phoneLater.page), '/reauthenticate?next=%2Faccount%2Femail')
  assert.match(
    await mainText(phoneLater.page),
    /Please enter your password again to change your account\./,
  )
  await screenshot(phoneLater.page, 'account-reauthenticate')
  await phoneLater.page.fill('#password', 'wrong')
  await submit(phoneLater.page, 'form.card button[type=submit]')
  assert.match(await mainText(phoneLater.page), /That password is not right\./)
  assert.equal(path(phoneLater.page), '/reauthenticate?next=%2Faccount%2Femail', 'next is kept')
  await phoneLater.page.fill('#password', 'secret')
  await submit(phoneLater.page, 'form.card button[type=submit]')
  assert.equal(path(phoneLater.page), '/account/email')
  assert.equal(await phoneLater.page.inputValue('#email'), 'leaf@example.org')

  // "Log out other devices" on the laptop ends the phone's sessions and remember-me tokens.
  await laptop.page.goto(`${origin}/account/devices`)
  assert.ok((await rows.count()) >= 2)
  await submit(laptop.page, 'button:has-text("Log out other devices")')
  assert.match(await mainText(laptop.page), /^Your other devices are logged out\. This one stays/)
  assert.equal(await rows.count(), 1)
  await phoneLater.page.goto(`${origin}/account`)
  assert.equal(path(phoneLater.page), '/login?next=%2Faccount')
  const phoneLast = await restart(t, browser, phoneLater)
  await phoneLast.page.goto(`${origin}/account`)
  assert.equal(path(phoneLast.page), '/login?next=%2Faccount', 'remember-me ended too')

  // The laptop logs out with the button in the header.
  await submit(laptop.page, 'header button:has-text("Log out")')
  assert.equal(path(laptop.page), '/')
  assert.match(await mainText(laptop.page), /^You are logged out on this browser\. Welcome /)
  const left = await laptop.context.cookies()
  assert.deepEqual(
    left.filter((c) => c.expires !== -1).map((c) => c.name),
    [],
    'logout removes the remember-me cookie',
  )
})
