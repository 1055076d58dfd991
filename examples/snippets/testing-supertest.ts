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

export async function theRealLoginFormWorks() {
  const agent = request.agent(createApp()) // keeps cookies between requests
  await agent
    .post('/login')
    .type('form')
    .send({ email: 'leafstorm', password: 'secret' })
    .expect(303)
    .expect('Location', '/protected')
  await agent.get('/protected').expect(200)
  await agent.post('/logout').expect(200)
  await agent.get('/protected').expect(302)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  test('anonymous visitors are sent to the login page', anonymousVisitorsAreSentToLogin)
  test('logged-in users see the protected page', loggedInUsersSeeThePage)
  test('the login form logs in and out', theRealLoginFormWorks)
}
