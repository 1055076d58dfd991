/**
 * `testLogin` from `login-manager/testing` (Flask's `FlaskLoginClient`) against every adapter: the
 * `Cookie` header value it returns logs the user in on guarded routes with a plain `fetch`, the
 * freshness asked for is what `freshLoginRequired` sees, and session protection — 'strong'
 * included — keeps the user logged in. One more test drives an Express app object with supertest,
 * the way the helper's documentation suggests.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import express from 'express'
import { LoginManager, type LoginManagerOptions, type UserId } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { testLogin } from 'login-manager/testing'
import request from 'supertest'
import { notch, steve, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import type { AppSpec, RunningApp } from './harness.ts'

const SECRET = 'testing-helper-suite-secret-Vb7Qm2Kx9Lp4Rt6Wz8Yc'

type Options = LoginManagerOptions<User, UserId>

const loadUser = (id: UserId): User | null => USERS.get(Number(id)) ?? null

function manager(overrides: Partial<Options> = {}): LoginManager<User, UserId> {
  return new LoginManager<User, UserId>({ secret: SECRET, userLoader: loadUser, ...overrides })
}

/** A guarded route, a fresh-guarded route and an unguarded one, each naming the current user. */
function spec(m: LoginManager<User, UserId>): AppSpec<User> {
  const name = async (auth: { getUser(): Promise<User | null> }) =>
    (await auth.getUser())?.name ?? 'Anonymous'
  return {
    manager: m,
    routes: [
      { path: '/protected', guard: 'login', handler: async ({ auth }) => name(auth) },
      { path: '/fresh', guard: 'fresh', handler: async ({ auth }) => name(auth) },
      { path: '/whoami', handler: async ({ auth }) => name(auth) },
    ],
  }
}

/**
 * A browser reduced to what these tests need: plain `fetch` with a `Cookie` header, which the
 * `Set-Cookie` headers of each response update (a `Max-Age=0` or empty value drops the cookie).
 */
class CookieFetch {
  readonly #cookies = new Map<string, string>()
  readonly #base: string

  constructor(base: string, cookieHeader?: string) {
    this.#base = base
    for (const part of cookieHeader?.split(';') ?? []) {
      const eq = part.indexOf('=')
      if (eq > 0) this.#cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
  }

  get cookie(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  async get(path: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.#base}${path}`, {
      headers: { cookie: this.cookie, ...headers },
      redirect: 'manual',
    })
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (value === '' || /;\s*max-age=0\b/i.test(line)) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
    return { status: res.status, body: await res.text() }
  }
}

/** One plain `fetch` with exactly this `Cookie` header (no cookie bookkeeping at all). */
async function getWith(app: RunningApp, path: string, cookie: string, userAgent?: string) {
  const res = await fetch(`${app.baseUrl}${path}`, {
    headers: { cookie, ...(userAgent === undefined ? {} : { 'user-agent': userAgent }) },
    redirect: 'manual',
  })
  return { status: res.status, body: await res.text() }
}

for (const adapter of adapters) {
  describe(`testLogin on ${adapter.name}`, () => {
    const withServer = async (
      m: LoginManager<User, UserId>,
      body: (app: RunningApp) => Promise<void>,
    ) => {
      const app = await adapter.start(spec(m))
      try {
        await body(app)
      } finally {
        await app.close()
      }
    }

    it('logs the user in on a loginRequired route with a plain fetch', async () => {
      const m = manager()
      await withServer(m, async (app) => {
        // The guard is really there: no cookie, no entry (no loginView: 401).
        assert.equal((await getWith(app, '/protected', '')).status, 401)
        const cookie = await testLogin(m, notch)
        assert.match(cookie, new RegExp(`^${m.options.session.name}=`))
        assert.deepEqual(await getWith(app, '/protected', cookie), { status: 200, body: 'Notch' })
        // A cookie for another user logs that user in.
        const other = await testLogin(m, steve)
        assert.deepEqual(await getWith(app, '/protected', other), { status: 200, body: 'Steve' })
      })
    })

    it('honours freshness in freshLoginRequired', async () => {
      const m = manager()
      await withServer(m, async (app) => {
        const fresh = await testLogin(m, notch, { fresh: true })
        assert.deepEqual(await getWith(app, '/fresh', fresh), { status: 200, body: 'Notch' })

        const stale = await testLogin(m, notch, { fresh: false })
        // Logged in, so loginRequired lets it through…
        assert.deepEqual(await getWith(app, '/protected', stale), { status: 200, body: 'Notch' })
        // …but not fresh, so freshLoginRequired refuses it (no refreshView: 401).
        assert.equal((await getWith(app, '/fresh', stale)).status, 401)

        // The default is a fresh login.
        const byDefault = await testLogin(m, notch)
        assert.equal((await getWith(app, '/fresh', byDefault)).status, 200)
      })
    })

    it("keeps working with sessionProtection 'strong'", async () => {
      const m = manager({ sessionProtection: 'strong' })
      await withServer(m, async (app) => {
        for (const fresh of [true, false]) {
          const where = `fresh=${fresh}`
          const cookie = await testLogin(m, notch, { fresh })
          // The same header on every request (as a test without a cookie jar sends it).
          for (let i = 0; i < 3; i++) {
            const res = await getWith(app, '/protected', cookie)
            assert.deepEqual(res, { status: 200, body: 'Notch' }, where)
          }
          assert.equal((await getWith(app, '/fresh', cookie)).status, fresh ? 200 : 401, where)

          // A browser that keeps the cookies it is sent: the session binds to this client…
          const browser = new CookieFetch(app.baseUrl, cookie)
          assert.deepEqual(await browser.get('/protected'), { status: 200, body: 'Notch' }, where)
          assert.deepEqual(await browser.get('/protected'), { status: 200, body: 'Notch' }, where)
          assert.equal((await browser.get('/fresh')).status, fresh ? 200 : 401, where)
          // …so strong protection really is on: another client with that session is logged out.
          const bound = browser.cookie
          assert.equal((await getWith(app, '/protected', bound, 'another-agent/1')).status, 401)
        }
      })
    })
  })
}

describe('testLogin with supertest', () => {
  it('logs the user in on an Express app object', async () => {
    const m = manager({ sessionProtection: 'strong' })
    const login = expressLogin(m)
    const app = express()
    app.use(login.middleware)
    app.get('/protected', login.loginRequired(), async (req, res) => {
      res.type('text/plain').send((await login.auth(req).getUser())?.name ?? 'Anonymous')
    })
    app.get('/fresh', login.freshLoginRequired(), (_req, res) => {
      res.type('text/plain').send('fresh')
    })

    await request(app).get('/protected').expect(401)
    const cookie = await testLogin(m, notch)
    await request(app).get('/protected').set('Cookie', cookie).expect(200, 'Notch')
    await request(app).get('/fresh').set('Cookie', cookie).expect(200, 'fresh')

    const stale = await testLogin(m, notch, { fresh: false })
    await request(app).get('/protected').set('Cookie', stale).expect(200, 'Notch')
    await request(app).get('/fresh').set('Cookie', stale).expect(401)
  })
})
