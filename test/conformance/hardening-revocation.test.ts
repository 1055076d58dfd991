/**
 * Issue 10 §2, cookie sessions: a logout ends the session everywhere, not only in the browser
 * that logged out. Each sealed session and sealed remember-me token carries an id; ending one
 * (logout, a login as someone else, a rotation, a strong-protection drop) puts its id on the
 * revocation list, and every copy of the cookie is refused from then on, including the write of
 * a request that was still running. Run on every adapter layout.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  LoginManager,
  type LoginManagerOptions,
  MemoryRevocationStore,
  type UserId,
} from 'login-manager'
import { type ClientResponse, TestClient } from '../support/client.ts'
import { listen, notch, steve, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import { type AppSpec, type RouteDef, withApp } from './harness.ts'

const SECRET = 'revocation-suite-secret-Vq8Lw2Nz5Rk1Tp7Hc4Xm'
const OLD_SECRET = 'revocation-suite-old-secret-Bd3Jf6Qs9Wg2Ky5Mn8'
const OTHER_UA = { headers: { 'user-agent': 'another-browser/2' } }

type Options = LoginManagerOptions<User, UserId>
type Spec = AppSpec<User> & { manager: LoginManager<User, UserId> }

/** A request that stops half-way (after loading the user, before answering) until released. */
class Gate {
  #release: () => void = () => {}
  #entered: () => void = () => {}
  readonly released = new Promise<void>((resolve) => {
    this.#release = resolve
  })
  readonly entered = new Promise<void>((resolve) => {
    this.#entered = resolve
  })
  enter(): void {
    this.#entered()
  }
  release(): void {
    this.#release()
  }
}

function app(overrides: Partial<Options> = {}, gate?: Gate): Spec {
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: (id) => USERS.get(Number(id)) ?? null,
    ...overrides,
  })
  const routes: RouteDef<User>[] = [
    { path: '/login-notch', handler: async ({ auth }) => String(await auth.loginUser(notch)) },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => String(await auth.loginUser(notch, { remember: true })),
    },
    { path: '/login-steve', handler: async ({ auth }) => String(await auth.loginUser(steve)) },
    {
      path: '/username',
      handler: async ({ auth }) => (await auth.getUser())?.name ?? 'Anonymous',
    },
    { path: '/protected', guard: 'login', handler: ({ auth }) => `hello ${auth.user?.name}` },
    { path: '/logout', handler: async ({ auth }) => String(await auth.logoutUser()) },
    {
      path: '/confirm',
      handler: async ({ auth }) => {
        await auth.confirmLogin()
        return 'confirmed'
      },
    },
    {
      // Loads the user, changes the session (so the response would re-seal it), then waits.
      path: '/slow-write',
      handler: async ({ auth }) => {
        const user = await auth.getUser()
        auth.session.set('visits', 1)
        gate?.enter()
        await gate?.released
        return user?.name ?? 'Anonymous'
      },
    },
    {
      // Loads the user, then waits, then re-authenticates (a rotation of the logged-in session).
      path: '/slow-confirm',
      handler: async ({ auth }) => {
        await auth.getUser()
        gate?.enter()
        await gate?.released
        await auth.confirmLogin()
        return 'confirmed'
      },
    },
  ]
  return { manager, routes }
}

const sessionName = (spec: Spec) => spec.manager.options.session.name
const rememberName = (spec: Spec) => spec.manager.options.remember.name

/** A second browser holding copies of `names` taken from `from` now. */
function copyOf(from: TestClient, names: string[], userAgent?: string): TestClient {
  const thief = new TestClient(from.baseUrl, userAgent === undefined ? {} : { userAgent })
  for (const name of names) {
    const value = from.jar.get(name)?.value
    assert.ok(value !== undefined && value !== '', `the browser has no ${name} cookie to copy`)
    thief.jar.set(name, value)
  }
  return thief
}

function cookieIn(res: ClientResponse, name: string) {
  return res.setCookies.find((c) => c.name === name)
}

function assertDeletes(res: ClientResponse, name: string): void {
  const cookie = cookieIn(res, name)
  assert.ok(
    cookie !== undefined && cookie.value === '' && cookie.maxAge === 0,
    `expected ${name} to be deleted, got ${cookie?.raw ?? 'no Set-Cookie'}`,
  )
}

async function username(client: TestClient): Promise<string> {
  const res = await client.get('/username')
  assert.equal(res.status, 200)
  return res.body
}

for (const adapter of adapters) {
  describe(`${adapter.name}: a logout ends a cookie session everywhere`, () => {
    it('a copy of the session cookie taken before logout is refused after it, and deleted', async () => {
      const spec = app()
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const thief = copyOf(browser, [sessionName(spec)])
        assert.equal(await username(thief), 'Notch', 'the copy works before the logout')
        await browser.get('/logout')
        const rejected = listen(spec.manager, 'cookieRejected')
        const res = await thief.get('/username')
        assert.equal(res.body, 'Anonymous')
        assertDeletes(res, sessionName(spec))
        rejected.heardOne(({ cookie, reason }) => cookie === 'session' && reason === 'ended')
      })
    })

    it('a copy refused on a guarded route gets the unauthorized answer, not the page', async () => {
      const spec = app()
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const thief = copyOf(browser, [sessionName(spec)])
        await browser.get('/logout')
        const res = await thief.get('/protected')
        assert.equal(res.status, 401)
        assert.ok(!res.body.includes('hello'), res.body)
      })
    })

    it('a copy re-sealed by a later request (touch) is refused too: the id survives re-seals', async () => {
      let now = Date.now()
      const spec = app({ now: () => now })
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const early = copyOf(browser, [sessionName(spec)])
        now += 120_000 // past the touch interval: the next request re-seals the cookie
        const touched = await browser.get('/username')
        assert.ok(cookieIn(touched, sessionName(spec)) !== undefined, 'the session was re-sealed')
        const late = copyOf(browser, [sessionName(spec)])
        await browser.get('/logout')
        assert.equal(await username(early), 'Anonymous')
        assert.equal(await username(late), 'Anonymous')
      })
    })

    it('a request in flight during the logout does not write the login back (a session write)', async () => {
      const gate = new Gate()
      const spec = app({}, gate)
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const tab = copyOf(browser, [sessionName(spec)])
        const inFlight = tab.get('/slow-write')
        await gate.entered
        await browser.get('/logout')
        gate.release()
        const res = await inFlight
        assert.equal(res.status, 200)
        assert.equal(
          cookieIn(res, sessionName(spec)),
          undefined,
          'the ended session was not re-sealed',
        )
        assert.equal(await username(tab), 'Anonymous', 'what the tab kept is still refused')
      })
    })

    it('a request in flight during the logout does not resurrect it by re-authenticating (rotation)', async () => {
      const gate = new Gate()
      const spec = app({}, gate)
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const tab = copyOf(browser, [sessionName(spec)])
        const inFlight = tab.get('/slow-confirm')
        await gate.entered
        await browser.get('/logout')
        gate.release()
        const res = await inFlight
        assert.equal(res.status, 200)
        assert.equal(cookieIn(res, sessionName(spec)), undefined, 'no new logged-in session')
        assert.equal(await username(tab), 'Anonymous')
      })
    })

    it('a copy of the remember-me cookie taken before logout does not log in after it', async () => {
      const spec = app()
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch-remember')
        const thief = copyOf(browser, [rememberName(spec)])
        const before = copyOf(browser, [rememberName(spec)])
        assert.equal(await username(before), 'Notch', 'the copy logs in before the logout')
        await browser.get('/logout')
        const rejected = listen(spec.manager, 'cookieRejected')
        const res = await thief.get('/username')
        assert.equal(res.body, 'Anonymous')
        assertDeletes(res, rememberName(spec))
        rejected.heardOne(({ cookie, reason }) => cookie === 'remember' && reason === 'ended')
        assert.equal((await thief.get('/protected')).status, 401)
      })
    })

    it('a remember restore in flight during the logout does not leave a logged-in session', async () => {
      const gate = new Gate()
      const spec = app({}, gate)
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch-remember')
        browser.restartBrowser() // only the remember cookie is left
        const tab = copyOf(browser, [rememberName(spec)])
        const inFlight = tab.get('/slow-write') // restores from the token, then waits
        await gate.entered
        await browser.get('/logout') // restores too, then logs out: the token ends
        gate.release()
        const res = await inFlight
        assert.equal(res.status, 200)
        assert.equal(cookieIn(res, sessionName(spec)), undefined, 'no session from the token')
        assert.equal(await username(tab), 'Anonymous')
      })
    })

    it('a refreshed remember cookie keeps its id: every refresh of it ends with the logout', async () => {
      let now = Date.now()
      const spec = app({ now: () => now, remember: { refreshEachRequest: true } })
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch-remember')
        const first = copyOf(browser, [rememberName(spec)])
        now += 5_000
        const refreshed = await browser.get('/username')
        assert.ok(cookieIn(refreshed, rememberName(spec)) !== undefined, 'the cookie was refreshed')
        const second = copyOf(browser, [rememberName(spec)])
        assert.notEqual(
          second.jar.get(rememberName(spec))?.value,
          first.jar.get(rememberName(spec))?.value,
        )
        await browser.get('/logout')
        assert.equal(await username(first), 'Anonymous')
        assert.equal(await username(second), 'Anonymous')
      })
    })

    it('a login as another user ends the old session and its remember-me token', async () => {
      const spec = app()
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch-remember')
        const oldSession = copyOf(browser, [sessionName(spec)])
        const oldToken = copyOf(browser, [rememberName(spec)])
        await browser.get('/login-steve')
        assert.equal(await username(browser), 'Steve')
        assert.equal(await username(oldSession), 'Anonymous')
        assert.equal(await username(oldToken), 'Anonymous')
      })
    })

    it('a re-authentication (confirmLogin) ends the copy taken before it; the browser stays logged in', async () => {
      const spec = app()
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const before = copyOf(browser, [sessionName(spec)])
        await browser.get('/confirm')
        assert.equal(await username(browser), 'Notch')
        assert.equal(await username(before), 'Anonymous')
      })
    })

    it('a strong session-protection drop ends the session for every copy', async () => {
      const spec = app({ sessionProtection: 'strong' })
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch')
        const elsewhere = copyOf(browser, [sessionName(spec)], 'another-browser/2')
        const copy = copyOf(browser, [sessionName(spec)])
        assert.equal(await username(elsewhere), 'Anonymous', 'another client: dropped')
        assert.equal(await username(copy), 'Anonymous', 'and the session ended for every copy')
        assert.equal((await browser.get('/username', OTHER_UA)).body, 'Anonymous')
      })
    })

    it('a cookie sealed under an old secret and re-sealed under the new one is ended with it', async () => {
      const old = app({ secret: OLD_SECRET })
      let oldCookie = ''
      await withApp(adapter, old, async (browser) => {
        await browser.get('/login-notch')
        oldCookie = browser.jar.get(sessionName(old))?.value ?? ''
      })
      const spec = app({ secret: [SECRET, OLD_SECRET] })
      await withApp(adapter, spec, async (browser) => {
        browser.jar.set(sessionName(spec), oldCookie)
        const resealed = await browser.get('/username')
        assert.equal(resealed.body, 'Notch')
        assert.ok(
          cookieIn(resealed, sessionName(spec)) !== undefined,
          're-sealed under the new key',
        )
        const copy = new TestClient(browser.baseUrl)
        copy.jar.set(sessionName(spec), oldCookie)
        await browser.get('/logout')
        assert.equal(await username(copy), 'Anonymous', 'the old-key copy ended too')
      })
    })

    it('two managers sharing a MemoryRevocationStore honour each other’s logouts', async () => {
      const store = new MemoryRevocationStore()
      const one = app({ revocation: { store } })
      const two = app({ revocation: { store } })
      await Promise.all([one.manager.ready(), two.manager.ready()])
      const running = await adapter.start(two)
      try {
        await withApp(adapter, one, async (browser) => {
          await browser.get('/login-notch')
          const onTwo = new TestClient(running.baseUrl)
          onTwo.jar.set(sessionName(two), browser.jar.get(sessionName(one))?.value ?? '')
          assert.equal(await username(onTwo), 'Notch')
          await browser.get('/logout')
          assert.equal(await username(onTwo), 'Anonymous')
        })
      } finally {
        await running.close()
        await Promise.all([one.manager.close(), two.manager.close()])
      }
    })

    it('the browser that logged out gets only deletions, and can log in again', async () => {
      const spec = app()
      await withApp(adapter, spec, async (browser) => {
        await browser.get('/login-notch-remember')
        const res = await browser.get('/logout')
        assertDeletes(res, sessionName(spec))
        assertDeletes(res, rememberName(spec))
        assert.equal(await username(browser), 'Anonymous')
        await browser.get('/login-notch')
        assert.equal(await username(browser), 'Notch', 'a new login after the logout works')
      })
    })
  })
}
