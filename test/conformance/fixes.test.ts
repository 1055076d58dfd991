/**
 * Every deliberate difference from Flask-Login (reference/flask-login.md §2.11 quirks Q1-Q10 and
 * the §4 issues the port fixes), checked over HTTP against every adapter in `./adapters/`.
 *
 * Each `it` names the quirk or upstream issue it covers. Flask-Login's behaviour is stated in a
 * comment; the assertions describe login-manager's.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { describe, it } from 'node:test'
import {
  LoginManager,
  LoginManagerError,
  type LoginManagerOptions,
  MAX_COOKIE_AGE,
  RequestAuth,
  type UserId,
} from 'login-manager'
import { testLogin } from 'login-manager/testing'
import { type ClientResponse, type ParsedSetCookie, TestClient } from '../support/client.ts'
import { listen, notch, steve, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import { type AdapterHarness, type AppSpec, type RouteDef, withApp } from './harness.ts'

// ------------------------------------------------------------------------------------ fixtures

const SECRET = 'fixes-suite-secret-4Kp9Qz2Lm7Rx1TwB8cNv3Hy6'
const HOUR = 3600
const DAY = 24 * HOUR
const OTHER_UA = { headers: { 'user-agent': 'another-browser/2' } }

type Options = LoginManagerOptions<User, UserId>
type Manager = LoginManager<User, UserId>
type Route = RouteDef<User>
type Spec = AppSpec<User> & { manager: Manager }

const py = (value: boolean): 'True' | 'False' => (value ? 'True' : 'False')
const loadByInt = (id: UserId): User | null => USERS.get(Number(id)) ?? null

function mutableClock(start = Date.now()) {
  let time = start
  return {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
}

/** The routes every app of this file has. */
function baseRoutes(): Route[] {
  return [
    { path: '/', handler: () => 'Welcome!' },
    { path: '/login-notch', handler: async ({ auth }) => py(await auth.loginUser(notch)) },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => py(await auth.loginUser(notch, { remember: true })),
    },
    {
      path: '/login-notch-permanent',
      handler: async ({ auth }) => {
        auth.session.permanent = true
        return py(await auth.loginUser(notch))
      },
    },
    { path: '/login-steve', handler: async ({ auth }) => py(await auth.loginUser(steve)) },
    {
      path: '/username',
      handler: async ({ auth }) => {
        const user = await auth.getUser()
        return user?.isAuthenticated ? user.name : 'Anonymous'
      },
    },
    { path: '/is-fresh', handler: async ({ auth }) => py(await auth.isFresh()) },
    { path: '/is-remembered', handler: async ({ auth }) => py(await auth.isRemembered()) },
    { path: '/logout', handler: async ({ auth }) => py(await auth.logoutUser()) },
    {
      path: '/confirm-login',
      handler: async ({ auth }) => {
        await auth.confirmLogin()
        return 'confirmed'
      },
    },
    {
      path: '/flash',
      handler: ({ auth }) => {
        auth.flash('hello there')
        return 'flashed'
      },
    },
    {
      path: '/flashes',
      handler: ({ auth }) => JSON.stringify(auth.consumeFlashes().map((f) => f.message)),
    },
    { path: '/session-user-id', handler: ({ auth }) => JSON.stringify(auth.sessionUserId ?? null) },
    {
      path: '/set-cart',
      handler: ({ auth, query }) => {
        auth.session.set('cart', query('v') ?? 'x')
        return 'set'
      },
    },
    { path: '/cart', handler: ({ auth }) => JSON.stringify(auth.session.get('cart') ?? null) },
  ]
}

function app(overrides: Partial<Options> = {}, routes: Route[] = []): Spec {
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: loadByInt,
    ...overrides,
  })
  return { manager, routes: [...baseRoutes(), ...routes] }
}

const sessionName = (spec: Spec): string => spec.manager.options.session.name
const rememberName = (spec: Spec): string => spec.manager.options.remember.name

async function text(c: TestClient, path: string, init?: { headers?: Record<string, string> }) {
  const res = await c.get(path, init)
  assert.ok(res.status < 500, `${path} answered ${res.status}`)
  return res.body
}

function cookieIn(res: ClientResponse, name: string): ParsedSetCookie | undefined {
  return res.setCookies.find((c) => c.name === name)
}

function isDeletion(cookie: ParsedSetCookie | undefined): boolean {
  return (
    cookie !== undefined &&
    cookie.value === '' &&
    cookie.maxAge === 0 &&
    cookie.expires !== undefined &&
    cookie.expires.getTime() <= Date.now()
  )
}

function assertDeletes(res: ClientResponse, name: string, message?: string): ParsedSetCookie {
  const cookie = cookieIn(res, name)
  assert.ok(
    isDeletion(cookie),
    message ?? `expected ${name} to be deleted, got ${cookie?.raw ?? 'no Set-Cookie'}`,
  )
  return cookie as ParsedSetCookie
}

function assertRedirect(res: ClientResponse, location: string): void {
  assert.equal(res.status, 302, `expected a 302 to ${location}, got ${res.status}`)
  assert.equal(res.location, location)
}

/** A GET with the request target sent byte for byte (fetch would resolve '//host/x' itself). */
function rawGet(
  baseUrl: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; location: string | undefined }> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: target, method: 'GET', headers },
      (res) => {
        res.resume()
        res.on('error', reject)
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

async function withServer(
  adapter: AdapterHarness,
  spec: Spec,
  body: (baseUrl: string) => Promise<void>,
): Promise<void> {
  const running = await adapter.start(spec)
  try {
    await body(running.baseUrl)
  } finally {
    await running.close()
  }
}

const isInvalidOption = (error: unknown): boolean =>
  error instanceof LoginManagerError && error.code === 'ERR_INVALID_OPTION'

// ------------------------------------------------------------------------------------ the suite

for (const adapter of adapters) {
  describe(adapter.name, () => {
    // ------------------------------------------------------------------ Q1
    describe('Q1 remember restore under session protection', () => {
      it('strong: the second and third requests after a restore keep the user, no signal', async () => {
        // Flask-Login: request 2 is anonymous and deletes the remember cookie.
        const spec = app({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          const protectedSpy = listen(spec.manager, 'sessionProtected')
          const fromCookie = listen(spec.manager, 'userLoadedFromCookie')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/username'), 'Notch')
          protectedSpy.heardNone()
          fromCookie.heardOne(({ user }) => user === notch)
          assert.ok(c.jar.get(rememberName(spec)) !== undefined, 'the remember cookie was kept')
          assert.equal(await text(c, '/is-fresh'), 'False')
        })
      })

      it('basic: no sessionProtected on any request after a restore', async () => {
        // Flask-Login: fires on every request after the restore (0, 1, 2, …).
        const spec = app({ sessionProtection: 'basic' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          const protectedSpy = listen(spec.manager, 'sessionProtected')
          for (let i = 0; i < 3; i++) assert.equal(await text(c, '/username'), 'Notch')
          protectedSpy.heardNone()
        })
      })
    })

    // ------------------------------------------------------------------ Q2
    describe('Q2 unknown user ids', () => {
      it('an id the loader no longer knows is removed from the session', async () => {
        // Flask-Login: `_user_id` stays, and the loader is asked again on every request.
        const deleted = new Set<number>()
        const calls: UserId[] = []
        const spec = app({
          userLoader: (id) => {
            calls.push(id)
            return deleted.has(Number(id)) ? null : loadByInt(id)
          },
        })
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/login-notch'), 'True')
          deleted.add(1)
          calls.length = 0
          const rejected = listen(spec.manager, 'cookieRejected')
          assert.equal(await text(c, '/username'), 'Anonymous')
          assert.deepEqual(
            calls.map((id) => String(id)),
            ['1'],
          )
          rejected.heardOne(
            ({ cookie, reason }) => cookie === 'session' && reason === 'unknown-user',
          )
          calls.length = 0
          assert.equal(await text(c, '/username'), 'Anonymous')
          assert.deepEqual(calls, [], 'the loader was asked again for the removed id')
          assert.equal(await text(c, '/session-user-id'), 'null')
        })
      })
    })

    // ------------------------------------------------------------------ Q3
    describe('Q3 the identifier is stored', () => {
      it('on a remember restore: the restored session is bound to this client', async () => {
        const spec = app({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/username'), 'Notch')
          // Bound to this client, not merely unbound: another client loses the session login.
          // (The remember cookie is deleted with it, as strong mode does.)
          const protectedSpy = listen(spec.manager, 'sessionProtected')
          assert.equal(await text(c, '/username', OTHER_UA), 'Anonymous')
          protectedSpy.heardOne(({ mode }) => mode === 'strong')
        })
      })

      it('on confirmLogin: the confirming client becomes the bound one', async () => {
        // A permanent session survives strong protection (marked not fresh); confirming from the
        // new client stores its identifier, so later requests from it pass untouched.
        const spec = app({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-permanent')
          const protectedSpy = listen(spec.manager, 'sessionProtected')
          assert.equal(await text(c, '/username', OTHER_UA), 'Notch')
          protectedSpy.heardOne()
          assert.equal(await text(c, '/is-fresh', OTHER_UA), 'False')
          // The confirming request still loads the user from the old binding first.
          assert.equal(await text(c, '/confirm-login', OTHER_UA), 'confirmed')
          protectedSpy.reset()
          assert.equal(await text(c, '/username', OTHER_UA), 'Notch')
          assert.equal(await text(c, '/is-fresh', OTHER_UA), 'True')
          protectedSpy.heardNone()
        })
      })

      it('on a testLogin session: bound to the first client that uses it', async () => {
        const spec = app({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          c.useCookieHeader(await testLogin(spec.manager, notch))
          const protectedSpy = listen(spec.manager, 'sessionProtected')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'True')
          protectedSpy.heardNone()
          assert.equal(await text(c, '/username', OTHER_UA), 'Anonymous')
          protectedSpy.heardOne(({ mode }) => mode === 'strong')
        })
      })
    })

    // ------------------------------------------------------------------ Q4
    describe('Q4 invalid remember cookie', () => {
      it('the request loader still runs, and the bad cookie is deleted', async () => {
        // Flask-Login (before PR #901): a bad remember cookie stops the request loader.
        const spec = app({
          requestLoader: (request) => {
            const id = request.query('user_id')
            return id === null ? null : loadByInt(id)
          },
        })
        await withApp(adapter, spec, async (c) => {
          const fromRequest = listen(spec.manager, 'userLoadedFromRequest')
          const rejected = listen(spec.manager, 'cookieRejected')
          c.jar.set(rememberName(spec), 'foo')
          const res = await c.get('/username?user_id=2')
          assert.equal(res.status, 200)
          assert.equal(res.body, 'Steve')
          fromRequest.heardOne(({ user }) => user === steve)
          rejected.heardOne(({ cookie }) => cookie === 'remember')
          assertDeletes(res, rememberName(spec))
          assert.equal(c.jar.get(rememberName(spec)), undefined)
        })
      })
    })

    // ------------------------------------------------------------------ Q5
    describe('Q5 anonymous sessions and basic protection', () => {
      it('a session holding only a flash is untouched by another user agent', async () => {
        // Flask-Login: `_fresh=False` is written into it and session_protected fires.
        const spec = app({ sessionProtection: 'basic' })
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/flash'), 'flashed')
          const protectedSpy = listen(spec.manager, 'sessionProtected')
          const res = await c.get('/username', OTHER_UA)
          assert.equal(res.body, 'Anonymous')
          protectedSpy.heardNone()
          assert.equal(
            cookieIn(res, sessionName(spec)),
            undefined,
            'the anonymous session was rewritten',
          )
          assert.equal(await text(c, '/flashes', OTHER_UA), '["hello there"]')
        })
      })
    })

    // ------------------------------------------------------------------ Q6
    describe('Q6 isRemembered is bound to the user', () => {
      it("false when the remember cookie is another user's", async () => {
        // Flask-Login's login_remembered() only checks that some valid cookie is present.
        const spec = app()
        await withServer(adapter, spec, async (baseUrl) => {
          const a = new TestClient(baseUrl)
          await a.get('/login-notch-remember')
          const notchRemember = a.jar.get(rememberName(spec))?.value
          assert.ok(notchRemember !== undefined)
          assert.equal(await text(a, '/is-remembered'), 'True')

          const b = new TestClient(baseUrl)
          await b.get('/login-steve')
          b.jar.set(rememberName(spec), notchRemember)
          assert.equal(await text(b, '/username'), 'Steve')
          assert.equal(await text(b, '/is-remembered'), 'False')
        })
      })
    })

    // ------------------------------------------------------------------ Q7 / Q8
    describe('Q7/Q8 per-prefix login views', () => {
      const guarded = (path: string): Route => ({ path, guard: 'login', handler: () => 'in' })

      it('Q7: null falls back to the app login view, false answers 401', async () => {
        // Flask-Login: a blueprint mapped to None gives 401.
        const spec = app(
          {
            loginView: '/login',
            loginViews: { '/admin': null, '/api': false, '/shop': '/shop/login' },
          },
          [guarded('/admin/x'), guarded('/api/x'), guarded('/shop/x'), guarded('/other')],
        )
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/admin/x'), '/login?next=%2Fadmin%2Fx')
          assert.equal((await c.get('/api/x')).status, 401)
          assertRedirect(await c.get('/shop/x'), '/shop/login?next=%2Fshop%2Fx')
          assertRedirect(await c.get('/other'), '/login?next=%2Fother')
        })
      })

      it('Q7: setLoginView(null, prefix) also falls back to the app view', async () => {
        const spec = app({ loginView: '/login' }, [guarded('/first/x')])
        spec.manager.setLoginView('/first_login', '/first')
        spec.manager.setLoginView(null, '/first')
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/first/x'), '/login?next=%2Ffirst%2Fx')
        })
      })

      it('Q8: setLoginView(view) after prefix views sets the app view', async () => {
        // Flask-Login: AttributeError once a blueprint view is registered.
        const spec = app({ loginViews: { '/first': '/first_login' } }, [
          guarded('/protected'),
          guarded('/first/protected'),
        ])
        assert.doesNotThrow(() => spec.manager.setLoginView('/app_login'))
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/protected'), '/app_login?next=%2Fprotected')
          assertRedirect(await c.get('/first/protected'), '/first_login?next=%2Ffirst%2Fprotected')
        })
      })
    })

    // ------------------------------------------------------------------ Q9
    describe('Q9 forceHostForRedirects with useSessionForNext', () => {
      it("the Location carries the forced host: '//good.com/login'", async () => {
        // Flask-Login ignores FORCE_HOST_FOR_REDIRECTS here (Location '/login').
        const spec = app(
          { loginView: '/login', useSessionForNext: true, forceHostForRedirects: 'good.com' },
          [
            { path: '/secret', guard: 'login', handler: () => 'in' },
            { path: '/login', handler: ({ auth }) => auth.nextUrl('/fallback') },
          ],
        )
        await withApp(adapter, spec, async (c) => {
          assertRedirect(
            await c.get('/secret', { headers: { host: 'bad.com' } }),
            '//good.com/login',
          )
          assert.equal(await text(c, '/login'), '/secret')
        })
      })
    })

    // ------------------------------------------------------------------ Q10
    describe('Q10 durations are checked early', () => {
      it('invalid durations fail at construction', () => {
        const bad: unknown[] = [
          '123',
          0,
          -1,
          Number.NaN,
          Number.POSITIVE_INFINITY,
          MAX_COOKIE_AGE + 1,
        ]
        for (const value of bad) {
          const where = `duration ${String(value)}`
          assert.throws(
            () => app({ remember: { duration: value as number } }),
            isInvalidOption,
            `remember.${where}`,
          )
          assert.throws(
            () => app({ session: { idleTimeout: value as number } }),
            isInvalidOption,
            `session.idleTimeout ${where}`,
          )
          assert.throws(
            () => app({ session: { absoluteTimeout: value as number } }),
            isInvalidOption,
            `session.absoluteTimeout ${where}`,
          )
        }
      })

      it('an invalid loginUser duration is a TypeError, and nothing is persisted', async () => {
        const attempt =
          (duration: unknown): Route['handler'] =>
          async ({ auth }) => {
            try {
              await auth.loginUser(notch, { remember: true, duration: duration as number })
              return 'no exception'
            } catch (error) {
              return error instanceof Error ? error.name : 'not an Error'
            }
          }
        const spec = app({}, [
          { path: '/string', handler: attempt('123') },
          { path: '/zero', handler: attempt(0) },
          { path: '/nan', handler: attempt(Number.NaN) },
          { path: '/too-long', handler: attempt(MAX_COOKIE_AGE + 1) },
          {
            path: '/uncaught',
            handler: async ({ auth }) =>
              py(await auth.loginUser(notch, { remember: true, duration: -5 })),
          },
        ])
        await withApp(adapter, spec, async (c) => {
          for (const path of ['/string', '/zero', '/nan', '/too-long']) {
            assert.equal(await text(c, path), 'TypeError', path)
          }
          const res = await c.get('/uncaught')
          assert.equal(res.status, 500)
          assert.deepEqual(res.setCookies, [])
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      // Flask-Login's Q10: a bad duration only fails when the cookie is written, as a 500. A
      // fractional number of seconds is either refused when the manager is built or works.
      for (const [label, options] of [
        ['remember.duration', { remember: { duration: DAY + 0.5 } }],
        ['session.idleTimeout', { session: { idleTimeout: HOUR + 0.5 } }],
        ['session.absoluteTimeout', { session: { absoluteTimeout: HOUR / 2 + 0.5 } }],
      ] satisfies [string, Partial<Options>][]) {
        it(`a fractional ${label} is refused at construction or works (never a late 500)`, async () => {
          let spec: Spec
          try {
            spec = app(options)
          } catch (error) {
            assert.ok(isInvalidOption(error), String(error))
            return
          }
          await withApp(adapter, spec, async (c) => {
            const remembered = await c.get('/login-notch-remember')
            assert.equal(remembered.status, 200, 'a remembered login gave a late 500')
            const permanent = await c.get('/login-notch-permanent')
            assert.equal(permanent.status, 200, 'a permanent login gave a late 500')
          })
        })
      }

      it('a fractional loginUser duration is a TypeError or works (never a late 500)', async () => {
        const spec = app({}, [
          {
            path: '/fractional',
            handler: async ({ auth }) => {
              try {
                return py(await auth.loginUser(notch, { remember: true, duration: 1.5 }))
              } catch (error) {
                return error instanceof TypeError ? 'TypeError' : 'other error'
              }
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/fractional')
          assert.equal(res.status, 200, 'loginUser({ duration: 1.5 }) gave a late 500')
          assert.ok(['True', 'TypeError'].includes(res.body), res.body)
        })
      })
    })

    // ------------------------------------------------------------------ #683
    describe('Flask-Login #683: deletion cookies repeat every attribute', () => {
      const variants: { label: string; attrs: Options['session'] }[] = [
        {
          label: 'secure, httpOnly, strict',
          attrs: { domain: 'localhost.local', path: '/mypath', secure: true, sameSite: 'strict' },
        },
        {
          label: 'not secure, not httpOnly, lax',
          attrs: {
            domain: 'localhost.local',
            path: '/mypath',
            secure: false,
            httpOnly: false,
            sameSite: 'lax',
          },
        },
      ]
      for (const { label, attrs } of variants) {
        it(`logout deletes the session and remember cookies with their attributes (${label})`, async () => {
          const spec = app(
            {
              session: { ...attrs, name: 'sess' },
              remember: { ...attrs, name: 'rem' },
            },
            [
              {
                path: '/mypath/login',
                handler: async ({ auth }) => py(await auth.loginUser(notch, { remember: true })),
              },
              { path: '/mypath/logout', handler: async ({ auth }) => py(await auth.logoutUser()) },
            ],
          )
          await withApp(adapter, spec, async (c) => {
            const login = await c.get('/mypath/login')
            const logout = await c.get('/mypath/logout')
            for (const name of ['sess', 'rem']) {
              const set = cookieIn(login, name)
              assert.ok(set !== undefined, `login did not set ${name}`)
              const deleted = assertDeletes(logout, name)
              for (const key of ['domain', 'path', 'secure', 'httpOnly', 'sameSite'] as const) {
                assert.equal(deleted[key], set[key], `${name} deletion: ${key}`)
              }
              assert.equal(deleted.domain, 'localhost.local')
              assert.equal(deleted.path, '/mypath')
            }
          })
        })
      }
    })

    // ------------------------------------------------------------------ #600 / #460 / #480
    describe('Logout', () => {
      it('#600: session.clear() right after logoutUser() still deletes the remember cookie', async () => {
        const spec = app({}, [
          {
            path: '/logout-and-clear',
            handler: async ({ auth }) => {
              await auth.logoutUser()
              auth.session.clear()
              return 'cleared'
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const res = await c.get('/logout-and-clear')
          assertDeletes(res, rememberName(spec))
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('#460: the next kept by useSessionForNext is gone after logout', async () => {
        const spec = app({ loginView: '/login', useSessionForNext: true }, [
          { path: '/secret', guard: 'login', handler: () => 'in' },
          { path: '/next', handler: ({ auth }) => auth.nextUrl('/fallback') },
        ])
        await withApp(adapter, spec, async (c) => {
          // Anonymous visitor: next is stored, then logout.
          assertRedirect(await c.get('/secret'), '/login')
          await c.get('/logout')
          assert.equal(await text(c, '/next'), '/fallback')
          // Logged-in visitor: the next survives the login itself, not the logout.
          assertRedirect(await c.get('/secret'), '/login')
          await c.get('/login-notch')
          await c.get('/logout')
          assert.equal(await text(c, '/next'), '/fallback')
        })
      })

      it('#480: logout deletes the remember cookie even when the request did not carry it', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/logout')
          assert.equal(res.status, 200)
          assertDeletes(res, rememberName(spec))
        })
      })
    })

    // ------------------------------------------------------------------ PR #899
    describe('PR #899: refreshEachRequest', () => {
      it('a logged-in session without a remember cookie is not made remembered', async () => {
        // Flask-Login before #899: every session became a remembered one.
        const spec = app({ remember: { refreshEachRequest: true } })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch')
          const res = await c.get('/username')
          assert.equal(res.body, 'Notch')
          assert.equal(cookieIn(res, rememberName(spec)), undefined)
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('a request that never touches the session gets no Set-Cookie', async () => {
        const spec = app({ remember: { refreshEachRequest: true } })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const res = await c.get('/')
          assert.equal(res.body, 'Welcome!')
          assert.deepEqual(res.setCookies, [])
        })
      })

      it('a request carrying the cookie, with a user in the session, re-issues it', async () => {
        const clock = mutableClock()
        const spec = app({ now: clock.now, remember: { refreshEachRequest: true } })
        await withApp(adapter, spec, async (c) => {
          const login = await c.get('/login-notch-remember')
          const first = cookieIn(login, rememberName(spec))
          assert.ok(first?.expires !== undefined)
          clock.advance(10_000)
          const res = await c.get('/username')
          const second = cookieIn(res, rememberName(spec))
          assert.ok(second?.expires !== undefined, 'the remember cookie was not re-issued')
          assert.ok(second.expires.getTime() > first.expires.getTime())
        })
      })

      it('a request carrying the cookie but no user in its session does not re-issue it', async () => {
        const spec = app({ remember: { refreshEachRequest: true } })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          // Touches the (new, empty) session without loading the user.
          const res = await c.get('/flashes')
          assert.equal(res.body, '[]')
          assert.equal(cookieIn(res, rememberName(spec)), undefined)
        })
      })
    })

    // ------------------------------------------------------------------ Login hygiene
    describe('Login', () => {
      it('rotates: the session cookie changes even when the same user logs in again', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          const first = cookieIn(await c.get('/login-notch'), sessionName(spec))
          const second = cookieIn(await c.get('/login-notch'), sessionName(spec))
          assert.ok(first !== undefined && second !== undefined, 'each login sets the session')
          assert.notEqual(second.value, first.value)
          assert.equal(await text(c, '/username'), 'Notch')
        })
      })

      it("logging in as another user drops the previous user's app data", async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch')
          await c.get('/set-cart?v=notch-cart')
          await c.get('/login-notch')
          assert.equal(await text(c, '/cart'), '"notch-cart"', 'same user: the data stays')
          await c.get('/login-steve')
          assert.equal(await text(c, '/username'), 'Steve')
          assert.equal(await text(c, '/cart'), 'null')
        })
      })

      it('a login without remember deletes an earlier remember cookie', async () => {
        const spec = app()
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          assert.ok(c.jar.get(rememberName(spec)) !== undefined)
          const res = await c.get('/login-steve')
          assertDeletes(res, rememberName(spec))
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })
    })

    // ------------------------------------------------------------------ Redirects
    describe('Redirects', () => {
      it("the emitted next is never scheme-relative (GET '//evil.com/x')", async () => {
        const spec = app({ loginView: '/login' }, [
          { path: '//evil.com/x', guard: 'login', handler: () => 'in' },
        ])
        await withServer(adapter, spec, async (baseUrl) => {
          const res = await rawGet(baseUrl, '//evil.com/x')
          assert.equal(res.status, 302)
          assert.equal(res.location, '/login?next=%2Fevil.com%2Fx')
        })
      })

      it('negotiate: JSON and XHR requests get a 401, browsers a redirect', async () => {
        const routes: Route[] = [{ path: '/secret', guard: 'login', handler: () => 'in' }]
        await withApp(adapter, app({ loginView: '/login' }, routes), async (c) => {
          const json = await c.get('/secret', { headers: { accept: 'application/json' } })
          assert.equal(json.status, 401)
          assert.match(json.headers.get('content-type') ?? '', /json/)
          assert.deepEqual(JSON.parse(json.body), { error: 'Unauthorized' })
          assert.equal(json.location, null)

          const xhr = await c.get('/secret', { headers: { 'x-requested-with': 'XMLHttpRequest' } })
          assert.equal(xhr.status, 401)
          assert.equal(xhr.location, null)

          const browser = await c.get('/secret', {
            headers: { accept: 'text/html,application/xhtml+xml,application/json;q=0.9' },
          })
          assertRedirect(browser, '/login?next=%2Fsecret')
        })
        const off = app({ loginView: '/login', negotiate: false }, routes)
        await withApp(adapter, off, async (c) => {
          const json = await c.get('/secret', { headers: { accept: 'application/json' } })
          assertRedirect(json, '/login?next=%2Fsecret')
          const xhr = await c.get('/secret', { headers: { 'x-requested-with': 'XMLHttpRequest' } })
          assertRedirect(xhr, '/login?next=%2Fsecret')
        })
      })
    })

    // ------------------------------------------------------------------ Configuration
    describe('Configuration', () => {
      it('an invalid sessionProtection fails at construction', () => {
        // Flask-Login silently disables protection for an unknown value.
        for (const value of ['Strong', 'on', '', 'none', true, 1]) {
          assert.throws(
            () => app({ sessionProtection: value as Options['sessionProtection'] }),
            isInvalidOption,
            `sessionProtection ${JSON.stringify(value)}`,
          )
        }
      })
    })

    // ------------------------------------------------------------------ 5xx
    describe('5xx responses persist nothing', () => {
      it('a session change followed by a 500 is not seen by the next request', async () => {
        const spec = app({}, [
          {
            path: '/set-cart-500',
            handler: ({ auth }) => {
              auth.session.set('cart', 'lost')
              return { status: 500, body: 'oops' }
            },
          },
          {
            path: '/login-503',
            handler: async ({ auth }) => {
              await auth.loginUser(steve, { remember: true })
              return { status: 503, body: 'unavailable' }
            },
          },
          {
            path: '/logout-500',
            handler: async ({ auth }) => {
              await auth.logoutUser()
              return { status: 500, body: 'oops' }
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          const set = await c.get('/set-cart-500')
          assert.equal(set.status, 500)
          assert.deepEqual(set.setCookies, [])
          assert.equal(await text(c, '/cart'), 'null')

          await c.get('/login-notch-remember')
          const login = await c.get('/login-503')
          assert.equal(login.status, 503)
          assert.deepEqual(login.setCookies, [])
          assert.equal(await text(c, '/username'), 'Notch')

          const logout = await c.get('/logout-500')
          assert.equal(logout.status, 500)
          assert.deepEqual(logout.setCookies, [])
          assert.equal(await text(c, '/username'), 'Notch')
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Notch', 'the remember cookie survived')
        })
      })
    })

    // ------------------------------------------------------------------ sessionVersion
    describe('sessionVersion', () => {
      it("bumping a user's version revokes the session and the remember cookie", async () => {
        const versions = new Map<UserId, number>()
        const spec = app({ sessionVersion: (user) => versions.get(user.id) ?? 0 })
        await withServer(adapter, spec, async (baseUrl) => {
          const a = new TestClient(baseUrl)
          await a.get('/login-notch-remember')
          const session = a.jar.get(sessionName(spec))?.value
          const remember = a.jar.get(rememberName(spec))?.value
          assert.ok(session !== undefined && remember !== undefined)
          assert.equal(await text(a, '/username'), 'Notch')

          versions.set(notch.id, 1)
          const rejected = listen(spec.manager, 'cookieRejected')

          const onlySession = new TestClient(baseUrl)
          onlySession.jar.set(sessionName(spec), session)
          assert.equal(await text(onlySession, '/username'), 'Anonymous')
          rejected.heardOne(({ cookie, reason }) => cookie === 'session' && reason === 'revoked')
          rejected.reset()

          const onlyRemember = new TestClient(baseUrl)
          onlyRemember.jar.set(rememberName(spec), remember)
          const res = await onlyRemember.get('/username')
          assert.equal(res.body, 'Anonymous')
          rejected.heardOne(({ cookie, reason }) => cookie === 'remember' && reason === 'revoked')
          assertDeletes(res, rememberName(spec))
          rejected.reset()

          const both = await a.get('/username')
          assert.equal(both.body, 'Anonymous')
          assert.ok(rejected.calls.every(({ reason }) => reason === 'revoked'))
          assertDeletes(both, rememberName(spec))
          a.restartBrowser()
          assert.equal(await text(a, '/username'), 'Anonymous')

          // A new login under the new version works.
          await a.get('/login-notch-remember')
          assert.equal(await text(a, '/username'), 'Notch')
          a.restartBrowser()
          assert.equal(await text(a, '/username'), 'Notch')
          assert.ok(rejected.calls.every(({ auth }) => auth instanceof RequestAuth))
        })
      })
    })
  })
}
