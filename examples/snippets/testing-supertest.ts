// test/protected.test.ts: testing pages behind loginRequired with supertest.
// Run: SESSION_SECRET=$(npx login-manager secret) node --import tsx --test test/protected.test.ts
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { testLogin } from 'login-manager/testing'
import request from 'supertest'
import { createApp, createManager, User } from './quickstart.ts'

export async function anonymousVisitorsAreSentToLogin() {
  const res = await request(createApp()).get('/protected')
  assert.equal(res.status, 302)
  assert.equal(res.headers.location, '/login?next=%2Fprotected')
}

export async function loggedInUsersSeeThePage() {
  const manager = createManager()
  const app = createApp(manager)
  // A Cookie header with a session in which leafstorm is logged in (fresh by default).
  const cookie = await testLogin(manager, new User('leafstorm'))
  const res = await request(app).get('/protected').set('Cookie', cookie)
  assert.equal(res.status, 200)
  assert.match(res.text, /Logged in as: leafstorm/)
}

export async function theLoginFormLogsInAndOut() {
  const app = createApp()
  const login = await request(app)
    .post('/login?next=%2Fprotected')
    .type('form')
    .send({ email: 'leafstorm', password: 'secret' })
    .expect(303)
    .expect('Location', '/protected')
  // The cookies are Secure, and supertest's agent only returns Secure cookies over HTTPS:
  // carry the name=value pairs over by hand.
  const cookie = login.get('Set-Cookie')?.map((c) => c.replace(/;.*/, '')) ?? []
  await request(app).get('/protected').set('Cookie', cookie).expect(200)
  const logout = await request(app).post('/logout').set('Cookie', cookie).expect(200)
  assert.ok(logout.get('Set-Cookie')?.some((c) => c.startsWith('__Host-session=;')))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  test('anonymous visitors are sent to the login page', anonymousVisitorsAreSentToLogin)
  test('logged-in users see the protected page', loggedInUsersSeeThePage)
  test('the login form logs in and out', theLoginFormLogsInAndOut)
}
