// test/account.test.ts: testing with fetch against a real server, incl. remember-me and freshness.
// Run: SESSION_SECRET=$(npx login-manager secret) node --import tsx --test test/account.test.ts
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { loginCookies, testLogin } from 'login-manager/testing'
import { createApp, createManager, User } from './fresh-logins.ts'

export async function rememberedLoginsAreNotFresh() {
  const ada = new User('ada', 'ada@example.com', 'correct horse')
  const manager = createManager(new Map([['ada', ada]]))
  const server = createApp(manager).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    // As if ada came back through a remember-me cookie: logged in, but not fresh.
    const cookie = await testLogin(manager, ada, { fresh: false })
    const account = await fetch(`${base}/account`, { headers: { cookie } })
    assert.deepEqual(await account.json(), { id: 'ada', fresh: false })

    // The e-mail form needs a fresh login: a remembered one is sent to re-enter the password.
    const email = await fetch(`${base}/account/email`, { headers: { cookie }, redirect: 'manual' })
    assert.equal(email.status, 302)
    assert.equal(email.headers.get('location'), '/reauthenticate?next=%2Faccount%2Femail')

    // loginCookies returns the cookies one by one: send only remember-me, as after a restart.
    const cookies = await loginCookies(manager, ada, { remember: true })
    const remember = cookies.find((c) => c.name === manager.options.remember.name)
    assert.ok(remember)
    const restored = await fetch(`${base}/account`, {
      headers: { cookie: `${remember.name}=${remember.value}` },
    })
    assert.deepEqual(await restored.json(), { id: 'ada', fresh: false })
  } finally {
    server.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  test('a remembered login is not fresh', rememberedLoginsAreNotFresh)
}
