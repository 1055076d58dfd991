/**
 * Flask-Login's whole test suite (`tests/test_login.py` on `main`, 107 tests; catalogued in
 * reference/flask-login.md §3), ported once and run against every adapter in `./adapters/`.
 *
 * Porting rules:
 * - Each Flask test class is a `describe`, each Flask test an `it` with the same name.
 * - Flask's tests that call functions inside a bare request context become small routes that do
 *   the same and report the results in the body. Python booleans stay `'True'`/`'False'`.
 * - Durations are seconds; time-dependent tests inject the manager's `now` clock.
 * - Where login-manager deliberately differs from Flask-Login (DESIGN.md secure defaults, fixed
 *   quirks Q1-Q10), the new behaviour is asserted under a `// Deliberate difference:` comment.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AnonymousUser,
  decodeCookie,
  encodeCookie,
  LoginManager,
  LoginManagerError,
  type LoginManagerOptions,
  loginUrl,
  makeNextParam,
  RequestAuth,
  respond,
  type UserId,
  UserMixin,
} from 'login-manager'
import { testLogin } from 'login-manager/testing'
import { type ClientResponse, TestClient } from '../support/client.ts'
import { creeper, germanjapanese, listen, notch, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import {
  type AdapterHarness,
  type AppSpec,
  type RouteDef,
  type RunningApp,
  withApp,
} from './harness.ts'

// ------------------------------------------------------------------------------------ fixtures

/**
 * Flask's `SECRET_KEY = "deterministic"` is too short here (at least 32 bytes are required), so
 * the suite uses this one. ASCII only, so its latin-1 and UTF-8 bytes agree for the Flask format.
 */
const SECRET = 'conformance-suite-secret-7fQ2xLm9Rk4TzW1bNc8vYp3H'
/** `"1"` signed with Flask's test key `"deterministic"` (CookieEncodingTestCase). */
const FLASK_COOKIE =
  '1|0e9e6e9855fbe6df7906ec4737578a1d491b38d3fd5246c1561016e189d6516043286501ca43257c938e60aad77acec5ce916b94ca9d00c0bb6f9883ae4b82ae'
/** `"1"` signed with the key bytes 9e 8f 14 (SecretKeyTestCase). */
const LATIN1_KEY_COOKIE =
  '1|39be2e77a757fe86c98b75f072d85c621d43cee29f4505d545ab591e78184992f91aa27714e47714be92313b9bba49c9dab4d877626f0db2e527d71f2ceb2cfe'

const HOUR = 3600
const DAY = 24 * HOUR
/** Flask's `timedelta(hours=7)`. */
const SEVEN_HOURS = 7 * HOUR
const DIFFERENT_UA = { headers: { 'user-agent': 'different' } }

type Options = LoginManagerOptions<User, UserId>
type Manager = LoginManager<User, UserId>
type Route = RouteDef<User>
type Spec = AppSpec<User> & { manager: Manager }

/** Python's `str(bool)`. */
const py = (value: boolean): 'True' | 'False' => (value ? 'True' : 'False')

/** Flask's `url_for` for the endpoints the tests register; unknown endpoints raise like a BuildError. */
const ENDPOINTS: Readonly<Record<string, string>> = {
  login: '/login',
  app_login: '/app_login',
  first_login: '/first_login',
  second_login: '/second_login',
  refresh_view: '/refresh-view',
}
function urlFor(endpoint: string): string {
  const path = ENDPOINTS[endpoint]
  if (path === undefined)
    throw new Error(`BuildError: could not build url for endpoint '${endpoint}'`)
  return path
}

/** Flask's `USERS.get(int(float(user_id)))`, None for anything else. */
function userFrom(raw: string | number | null | undefined): User | null {
  if (raw === null || raw === undefined || raw === '') return null
  const id = Math.trunc(Number.parseFloat(String(raw)))
  return Number.isNaN(id) ? null : (USERS.get(id) ?? null)
}

/** Flask's `USERS[int(user_id)]`. */
const loadByInt = (id: UserId): User | null => USERS.get(Number(id)) ?? null
/** Flask's `USERS[str(user_id)]`. */
const loadByStr = (id: UserId): User | null => USERS.get(String(id)) ?? null

/** A manager clock tests can move (Flask mocks `datetime.now`). */
function mutableClock(start = Date.now()) {
  let time = start
  return {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
}

const sessionCookie = (manager: Manager): string => manager.options.session.name

async function text(client: TestClient, path: string, init?: { headers?: Record<string, string> }) {
  return (await client.get(path, init)).body
}

function assertRedirect(response: ClientResponse, location: string): void {
  assert.equal(response.status, 302, `expected a 302 to ${location}, got ${response.status}`)
  assert.equal(response.location, location)
}

/** Flask's "within 10 seconds of" check for cookie expiry dates. */
function assertNear(actual: Date | undefined, expectedMs: number, toleranceMs = 10_000): void {
  assert.ok(actual !== undefined, 'the cookie has no Expires')
  const difference = Math.abs(actual.getTime() - expectedMs)
  assert.ok(
    difference < toleranceMs,
    `expires ${actual.toISOString()} is far from ${new Date(expectedMs).toISOString()}`,
  )
}

/** The current user's name, or "Anonymous" (Flask's `/username` view). */
async function usernameOf(auth: { getUser(): Promise<User | null> }): Promise<string> {
  const user = await auth.getUser()
  return user?.isAuthenticated ? user.name : 'Anonymous'
}

/** LoginTestCase's routes (its `setUp`), plus the reporting routes used by the ported tests. */
function loginTestCaseRoutes(): Route[] {
  return [
    { path: '/', handler: () => 'Welcome!' },
    { path: '/secret', handler: ({ auth }) => auth.unauthorized() },
    { path: '/login-notch', handler: async ({ auth }) => py(await auth.loginUser(notch)) },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => py(await auth.loginUser(notch, { remember: true })),
    },
    {
      path: '/login-notch-remember-custom',
      handler: async ({ auth }) =>
        py(await auth.loginUser(notch, { remember: true, duration: SEVEN_HOURS })),
    },
    {
      path: '/login-notch-permanent',
      handler: async ({ auth }) => {
        auth.session.permanent = true
        return py(await auth.loginUser(notch))
      },
    },
    { path: '/needs-refresh', handler: ({ auth }) => auth.needsRefresh() },
    {
      path: '/confirm-login',
      handler: async ({ auth }) => {
        await auth.confirmLogin()
        return ''
      },
    },
    { path: '/username', handler: ({ auth }) => usernameOf(auth) },
    { path: '/is-fresh', handler: async ({ auth }) => py(await auth.isFresh()) },
    { path: '/is-remembered', handler: async ({ auth }) => py(await auth.isRemembered()) },
    { path: '/logout', handler: async ({ auth }) => py(await auth.logoutUser()) },
    { path: '/empty_session', handler: ({ auth }) => `modified=${py(auth.session.modified)}` },
    // Port helpers: what Flask's tests inspect in a request context, reported by the app.
    {
      path: '/is-anonymous',
      handler: async ({ auth }) => py((await auth.currentUser()).isAnonymous === true),
    },
    {
      path: '/flashes',
      handler: ({ auth, query }) =>
        JSON.stringify(auth.consumeFlashes(query('category') ?? undefined).map((f) => f.message)),
    },
    {
      path: '/session-user-id',
      handler: ({ auth }) => JSON.stringify(auth.sessionUserId ?? null),
    },
  ]
}

/** LoginTestCase's app: Flask's `setUp` config plus `overrides` (Flask's per-test config). */
function loginTestCase(overrides: Partial<Options> = {}, routes: Route[] = []): Spec {
  const { remember, ...rest } = overrides
  const manager = new LoginManager<User, UserId>({
    secret: SECRET,
    sessionProtection: null,
    userLoader: loadByInt,
    requestLoader: (request) => userFrom(request.query('user_id')),
    resolveEndpoint: urlFor,
    ...rest,
    remember: { name: 'remember', ...remember },
  })
  return { manager, routes: [...loginTestCaseRoutes(), ...routes] }
}

/** Starts `spec` without a client, for tests that need several browsers on one server. */
async function withServer(
  adapter: AdapterHarness,
  spec: Spec,
  body: (app: RunningApp) => Promise<void>,
): Promise<void> {
  const app = await adapter.start(spec)
  try {
    await body(app)
  } finally {
    await app.close()
  }
}

// ------------------------------------------------------------------------------------ the suite

for (const adapter of adapters) {
  describe(adapter.name, () => {
    // ------------------------------------------------------------------ StaticTestCase (2)
    describe('StaticTestCase', () => {
      const staticApp = (): Spec => ({
        manager: new LoginManager<User, UserId>({ secret: SECRET, userLoader: loadByInt }),
        routes: [
          {
            path: '/static/favicon.ico',
            handler: () => ({ body: 'icon', headers: { 'content-type': 'image/x-icon' } }),
          },
          {
            path: '/is-anonymous',
            handler: async ({ auth }) => py((await auth.currentUser()).isAnonymous === true),
          },
        ],
      })

      it('test_static_loads_anonymous', async () => {
        await withApp(adapter, staticApp(), async (c) => {
          const res = await c.get('/static/favicon.ico')
          assert.equal(res.status, 200)
          assert.deepEqual(res.setCookies, [])
          assert.equal(await text(c, '/is-anonymous'), 'True')
        })
      })

      it('test_static_loads_without_accessing_session', async () => {
        const spec = staticApp()
        await withApp(adapter, spec, async (c) => {
          const accessed = listen(spec.manager, 'userAccessed')
          const res = await c.get('/static/favicon.ico')
          assert.equal(res.status, 200)
          accessed.heardNone()
          // Lazy loading: a response that never touched the user carries nothing of the session.
          assert.deepEqual(res.setCookies, [])
          assert.doesNotMatch(res.headers.get('vary') ?? '', /cookie/i)
        })
      })
    })

    // ------------------------------------------------------------------ InitializationTestCase (3)
    describe('InitializationTestCase', () => {
      const index: Route = { path: '/', handler: () => 'Welcome!' }

      it('test_init_app', async () => {
        // Flask: LoginManager() then init_app(app): build first, configure, then attach.
        const manager = new LoginManager<User, UserId>({ secret: SECRET })
        manager.userLoader(loadByInt)
        assert.ok(manager instanceof LoginManager)
        await withApp(adapter, { manager, routes: [index] }, async (c) => {
          assert.equal(await text(c, '/'), 'Welcome!')
        })
      })

      it('test_class_init', async () => {
        // Flask: LoginManager(app): everything given at construction, attached at once.
        const manager = new LoginManager<User, UserId>({ secret: SECRET, userLoader: loadByInt })
        assert.ok(manager instanceof LoginManager)
        await withApp(adapter, { manager, routes: [index] }, async (c) => {
          assert.equal(await text(c, '/'), 'Welcome!')
        })
      })

      it('test_no_user_loader_raises', async () => {
        const manager = new LoginManager<User, UserId>({ secret: SECRET })
        // Deliberate difference: a manager without user or request loader is refused when the
        // adapter is created (start-up), not with an exception on the first request that loads.
        let started: RunningApp | undefined
        let error: unknown
        try {
          started = await adapter.start({ manager, routes: [index] })
        } catch (caught) {
          error = caught
        } finally {
          await started?.close()
        }
        assert.ok(error instanceof LoginManagerError, `expected a LoginManagerError, got ${error}`)
        assert.equal(error.code, 'ERR_NO_USER_LOADER')
        // Flask's message names `user_loader`; ours names the option to pass.
        assert.match(error.message, /^ERR_NO_USER_LOADER: no user loader: pass `userLoader`/)
      })
    })

    // ------------------------------------------------------------------ MethodViewLoginTestCase (1)
    describe('MethodViewLoginTestCase', () => {
      it('test_options_call_exempt', async () => {
        // Flask's view stacks login_required and fresh_login_required; each guard is checked on
        // its own route here. Flask-Login calls the view for an anonymous OPTIONS (200, its body).
        // Deliberate difference: the exemption stands (no redirect, no 401), but the guard answers
        // an anonymous exempt request 204 No Content itself: a guarded handler never runs without
        // a user. With a login, the view runs as in Flask. Also: adapters need a loader to start
        // (see test_no_user_loader_raises).
        const manager = new LoginManager<User, UserId>({ secret: SECRET, userLoader: loadByInt })
        const routes: Route[] = [
          { method: 'OPTIONS', path: '/secret', guard: 'login', handler: () => 'options' },
          { method: 'OPTIONS', path: '/fresh-secret', guard: 'fresh', handler: () => 'options' },
          { path: '/secret', guard: 'login', handler: () => 'get' },
          { path: '/login-notch', handler: async ({ auth }) => py(await auth.loginUser(notch)) },
        ]
        await withApp(adapter, { manager, routes }, async (c) => {
          const options = await c.request('OPTIONS', '/secret')
          assert.equal(options.status, 204)
          assert.equal(options.body, '')
          const freshOptions = await c.request('OPTIONS', '/fresh-secret')
          assert.equal(freshOptions.status, 204)
          assert.equal(freshOptions.body, '')
          // The guard is really there for other methods.
          assert.equal((await c.get('/secret')).status, 401)
          // Logged in, the view runs (the body proves it is not a framework auto-OPTIONS).
          await c.get('/login-notch')
          assert.equal((await c.request('OPTIONS', '/secret')).body, 'options')
          assert.equal((await c.request('OPTIONS', '/fresh-secret')).body, 'options')
        })
      })
    })

    // ------------------------------------------------------------------ LoginTestCase (70)
    describe('LoginTestCase', () => {
      // ---- Login

      it('test_test_request_context_users_are_anonymous', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          assert.equal(await text(c, '/is-anonymous'), 'True')
        })
      })

      it('test_defaults_anonymous', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('test_login_user', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-notch-report',
            handler: async ({ auth }) => {
              const result = await auth.loginUser(notch)
              return JSON.stringify({
                result: py(result),
                name: (await auth.getUser())?.name,
                fresh: py(await auth.isFresh()),
                remembered: py(await auth.isRemembered()),
              })
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.deepEqual(JSON.parse(await text(c, '/login-notch-report')), {
            result: 'True',
            name: 'Notch',
            fresh: 'True',
            remembered: 'False',
          })
        })
      })

      it('test_login_user_not_fresh', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-notch-not-fresh-report',
            handler: async ({ auth }) => {
              const result = await auth.loginUser(notch, { fresh: false })
              return JSON.stringify({
                result: py(result),
                name: (await auth.getUser())?.name,
                fresh: py(await auth.isFresh()),
              })
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.deepEqual(JSON.parse(await text(c, '/login-notch-not-fresh-report')), {
            result: 'True',
            name: 'Notch',
            fresh: 'False',
          })
        })
      })

      it('test_login_user_emits_signal', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          const loggedIn = listen(spec.manager, 'userLoggedIn')
          assert.equal(await text(c, '/login-notch'), 'True')
          loggedIn.heardOne(({ auth, user }) => auth instanceof RequestAuth && user === notch)
        })
      })

      it('test_login_inactive_user', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-creeper-report',
            handler: async ({ auth }) => {
              const result = await auth.loginUser(creeper)
              const current = await auth.currentUser()
              return JSON.stringify({
                result: py(result),
                anonymous: py(current.isAnonymous === true),
              })
            },
          },
        ])
        const loggedIn = listen(spec.manager, 'userLoggedIn')
        await withApp(adapter, spec, async (c) => {
          assert.deepEqual(JSON.parse(await text(c, '/login-creeper-report')), {
            result: 'False',
            anonymous: 'True',
          })
          loggedIn.heardNone()
        })
      })

      it('test_login_inactive_user_forced', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-creeper-forced',
            handler: async ({ auth }) => {
              await auth.loginUser(creeper, { force: true })
              return (await auth.getUser())?.name ?? 'nobody'
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/login-creeper-forced'), 'Creeper')
        })
      })

      it('test_login_user_with_request', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          assert.equal(await text(c, '/username?user_id=2'), 'Steve')
        })
      })

      it('test_login_invalid_user_with_request', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          assert.equal(await text(c, '/username?user_id=9000'), 'Anonymous')
        })
      })

      // ---- Logout

      it('test_logout_logs_out_current_user', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-logout-report',
            handler: async ({ auth }) => {
              await auth.loginUser(notch)
              await auth.logoutUser()
              return py((await auth.currentUser()).isAnonymous === true)
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/login-logout-report'), 'True')
        })
      })

      it('test_logout_emits_signal', async () => {
        const spec = loginTestCase()
        const loggedOut = listen(spec.manager, 'userLoggedOut')
        spec.routes.push({
          path: '/login-then-logout',
          handler: async ({ auth }) => {
            await auth.loginUser(notch)
            loggedOut.reset() // Flask starts listening between login_user and logout_user.
            return py(await auth.logoutUser())
          },
        })
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/login-then-logout'), 'True')
          loggedOut.heardOne(({ auth, user }) => auth instanceof RequestAuth && user === notch)
        })
      })

      it('test_logout_without_current_user', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/login-notch'), 'True')
          // Flask deletes session["_user_id"] after login_user; here the browser loses the session.
          c.deleteCookie(sessionCookie(spec.manager))
          const loggedOut = listen(spec.manager, 'userLoggedOut')
          assert.equal(await text(c, '/logout'), 'True')
          loggedOut.heardOne() // user=ANY
        })
      })

      // ---- Unauthorized

      it('test_unauthorized_fires_unauthorized_signal', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          const unauthorized = listen(spec.manager, 'userUnauthorized')
          await c.get('/secret')
          unauthorized.heardOne(({ auth }) => auth instanceof RequestAuth)
        })
      })

      it('test_unauthorized_flashes_message_with_login_view', async () => {
        const spec = loginTestCase({
          loginView: '/login',
          loginMessage: 'Log in!',
          loginMessageCategory: 'login',
        })
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/secret'), '/login?next=%2Fsecret')
          assert.deepEqual(JSON.parse(await text(c, '/flashes?category=login')), ['Log in!'])
        })
      })

      it('test_unauthorized_flash_message_localized', async () => {
        const spec = loginTestCase({
          loginView: '/login',
          loginMessage: 'Log in!',
          loginMessageCategory: 'login',
          localize: (message) => (message === 'Log in!' ? 'Einloggen' : message),
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/secret')
          assert.deepEqual(JSON.parse(await text(c, '/flashes?category=login')), ['Einloggen'])
        })
      })

      it('test_unauthorized_uses_authorized_handler', async () => {
        const spec = loginTestCase()
        spec.manager.unauthorizedHandler(() => respond(401, 'This is secret!'))
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/secret')
          assert.equal(res.status, 401)
          assert.equal(res.body, 'This is secret!')
        })
      })

      it('test_unauthorized_aborts_with_401', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          assert.equal((await c.get('/secret')).status, 401)
        })
      })

      it('test_unauthorized_redirects_to_login_view', async () => {
        const spec = loginTestCase({ loginView: 'login' }, [
          { path: '/login', handler: () => 'Login Form Goes Here!' },
        ])
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/secret'), '/login?next=%2Fsecret')
        })
      })

      it('test_unauthorized_with_next_in_session', async () => {
        const spec = loginTestCase({ loginView: 'login', useSessionForNext: true }, [
          // Flask: session.pop("next", "")
          { path: '/login', handler: ({ auth }) => auth.nextUrl('') },
        ])
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/secret'), '/login')
          assert.equal(await text(c, '/login'), '/secret')
        })
      })

      it('test_unauthorized_with_next_in_strong_session', async () => {
        const spec = loginTestCase(
          { loginView: 'login', sessionProtection: 'strong', useSessionForNext: true },
          [
            {
              path: '/login',
              handler: async ({ auth }) => {
                await auth.isAuthenticated() // anything that touches the current user
                return auth.nextUrl('')
              },
            },
          ],
        )
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/secret'), '/login')
          assert.equal(await text(c, '/login'), '/secret')
        })
      })

      it('test_unauthorized_uses_blueprint_login_view', async () => {
        // Blueprints are path prefixes: setLoginView(view, '/first').
        const form = () => 'Login Form Goes Here!'
        const granted = () => 'Access Granted'
        const spec = loginTestCase({}, [
          { path: '/app_login', handler: form },
          { path: '/first_login', handler: form },
          { path: '/second_login', handler: form },
          { path: '/protected', guard: 'login', handler: granted },
          { path: '/first/protected', guard: 'login', handler: granted },
          { path: '/second/protected', guard: 'login', handler: granted },
        ])
        spec.manager.setLoginView('app_login')
        spec.manager.setLoginView('first_login', '/first')
        spec.manager.setLoginView('second_login', '/second')
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/protected'), '/app_login?next=%2Fprotected')
          assertRedirect(await c.get('/first/protected'), '/first_login?next=%2Ffirst%2Fprotected')
          assertRedirect(
            await c.get('/second/protected'),
            '/second_login?next=%2Fsecond%2Fprotected',
          )
        })
      })

      it('test_set_login_view_without_blueprints', async () => {
        const spec = loginTestCase({}, [
          { path: '/app_login', handler: () => 'Login Form Goes Here!' },
          { path: '/protected', guard: 'login', handler: () => 'Access Granted' },
        ])
        spec.manager.setLoginView('app_login')
        await withApp(adapter, spec, async (c) => {
          assertRedirect(await c.get('/protected'), '/app_login?next=%2Fprotected')
        })
      })

      // ---- Session persistence / freshness

      it('test_login_persists', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch')
          assert.equal(await text(c, '/username'), 'Notch')
        })
      })

      it('test_logout_persists', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch')
          await c.get('/logout')
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('test_incorrect_id_logs_out', async () => {
        const spec = loginTestCase()
        // Any attempt to reload the user by its id finds nobody.
        spec.manager.userLoader(() => null)
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/login-notch'), 'True')
          assert.equal(await text(c, '/username'), 'Anonymous')
          // Deliberate difference (Q2 fixed): the unknown id is also removed from the session.
          assert.equal(await text(c, '/session-user-id'), 'null')
        })
      })

      it('test_authentication_is_fresh', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch')
          assert.equal(await text(c, '/is-fresh'), 'True')
          assert.equal(await text(c, '/is-remembered'), 'False')
        })
      })

      it('test_remember_me', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'False')
          assert.equal(await text(c, '/is-remembered'), 'True')
        })
      })

      it('test_remember_me_custom_duration', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember-custom')
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'False')
          assert.equal(await text(c, '/is-remembered'), 'True')
        })
      })

      it('test_remember_me_uses_custom_cookie_parameters', async () => {
        const spec = loginTestCase({
          remember: {
            name: 'myname',
            duration: 2 * DAY,
            path: '/mypath',
            domain: 'localhost.local',
          },
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const cookie = c.jar.get('myname')
          assert.ok(cookie !== undefined, 'no cookie named myname')
          assert.equal(cookie.domain, 'localhost.local')
          assert.equal(cookie.path, '/mypath')
          assertNear(cookie.expires, Date.now() + 2 * DAY * 1000)
        })
      })

      it('test_remember_me_custom_duration_uses_custom_cookie', async () => {
        const spec = loginTestCase({
          remember: {
            name: 'myname',
            duration: 172800,
            path: '/mypath',
            domain: 'localhost.local',
          },
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember-custom')
          const cookie = c.jar.get('myname')
          assert.ok(cookie !== undefined, 'no cookie named myname')
          assert.equal(cookie.domain, 'localhost.local')
          assert.equal(cookie.path, '/mypath')
          assertNear(cookie.expires, Date.now() + SEVEN_HOURS * 1000)
        })
      })

      it('test_remember_me_accepts_duration_as_int', async () => {
        // Durations are always integer seconds here; Flask's int form is the only form.
        const spec = loginTestCase({
          remember: { name: 'myname', duration: 172800, domain: 'localhost.local' },
        })
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/login-notch-remember')).status, 200)
          const cookie = c.jar.get('myname')
          assert.ok(cookie !== undefined, 'no cookie named myname')
          assert.equal(cookie.domain, 'localhost.local')
          assertNear(cookie.expires, Date.now() + 172800 * 1000)
        })
      })

      it('test_remember_me_with_invalid_duration_returns_500_response', () => {
        // Deliberate difference (Q10): an invalid remember duration is refused when the manager
        // is built, instead of a 500 on the first remembered login.
        assert.throws(
          () => loginTestCase({ remember: { duration: '123' as unknown as number } }),
          (error: unknown) =>
            error instanceof LoginManagerError && error.code === 'ERR_INVALID_OPTION',
        )
      })

      it('test_remember_me_with_invalid_custom_duration_returns_500_resp', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-notch-remember-custom-invalid',
            handler: async ({ auth }) =>
              py(
                await auth.loginUser(notch, {
                  remember: true,
                  duration: '123' as unknown as number,
                }),
              ),
          },
        ])
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/login-notch-remember-custom-invalid')
          assert.equal(res.status, 500)
          assert.equal(c.jar.get('remember'), undefined)
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('test_set_cookie_with_invalid_duration_raises_exception', () => {
        // Deliberate difference (Q10): checked at construction; durations are seconds, so the
        // message names seconds rather than datetime.timedelta.
        assert.throws(
          () => loginTestCase({ remember: { duration: '123' as unknown as number } }),
          (error: unknown) =>
            error instanceof LoginManagerError &&
            error.code === 'ERR_INVALID_OPTION' &&
            error.message.includes('remember.duration') &&
            error.message.includes('got 123'),
        )
      })

      it('test_set_cookie_with_invalid_custom_duration_raises_exception', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/login-invalid-duration-report',
            handler: async ({ auth }) => {
              try {
                await auth.loginUser(notch, {
                  remember: true,
                  duration: '123' as unknown as number,
                })
                return 'no exception'
              } catch (error) {
                return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
              }
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          // Deliberate difference: a TypeError naming seconds instead of datetime.timedelta.
          assert.match(
            await text(c, '/login-invalid-duration-report'),
            /^TypeError: duration must be a number of seconds .*instead got: 123$/,
          )
        })
      })

      it('test_remember_me_no_refresh_every_request', async () => {
        const clock = mutableClock()
        const spec = loginTestCase({
          now: clock.now,
          remember: { domain: 'localhost.local', path: '/', refreshEachRequest: false },
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const expires1 = c.jar.get('remember')?.expires
          assert.ok(expires1 !== undefined)
          c.restartBrowser()
          clock.advance(60_000) // any re-issue would now carry another Expires
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(c.jar.get('remember')?.expires?.getTime(), expires1.getTime())
        })
      })

      it('test_remember_me_refresh_each_request', async () => {
        const clock = mutableClock()
        const spec = loginTestCase({
          now: clock.now,
          remember: { domain: 'localhost.local', path: '/', refreshEachRequest: true },
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const expires1 = c.jar.get('remember')?.expires
          assert.ok(expires1 !== undefined)
          clock.advance(1000)
          assert.equal(await text(c, '/username'), 'Notch')
          const expires2 = c.jar.get('remember')?.expires
          assert.ok(expires2 !== undefined)
          assert.notEqual(expires2.getTime(), expires1.getTime())
        })
      })

      it('test_remember_me_is_unfresh', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          assert.equal(await text(c, '/is-fresh'), 'False')
          assert.equal(await text(c, '/is-remembered'), 'True')
        })
      })

      it('test_user_loaded_from_cookie_fired', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          const fromCookie = listen(spec.manager, 'userLoadedFromCookie')
          await c.get('/username')
          fromCookie.heardOne(({ auth, user }) => auth instanceof RequestAuth && user === notch)
        })
      })

      it('test_user_loaded_from_request_fired', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          const fromRequest = listen(spec.manager, 'userLoadedFromRequest')
          assert.equal(await text(c, '/username?user_id=1'), 'Notch')
          fromRequest.heardOne(({ auth, user }) => auth instanceof RequestAuth && user === notch)
        })
      })

      it('test_logout_stays_logged_out_with_remember_me', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember')
          await c.get('/logout')
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('test_logout_stays_logged_out_with_remember_me_custom_duration', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember-custom')
          await c.get('/logout')
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      // ---- Needs refresh

      it('test_needs_refresh_uses_handler', async () => {
        const spec = loginTestCase()
        spec.manager.needsRefreshHandler(() => respond(200, 'Needs Refresh!'))
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          assert.equal(await text(c, '/needs-refresh'), 'Needs Refresh!')
        })
      })

      it('test_needs_refresh_fires_needs_refresh_signal', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const needsRefresh = listen(spec.manager, 'userNeedsRefresh')
          await c.get('/needs-refresh')
          needsRefresh.heardOne(({ auth }) => auth instanceof RequestAuth)
        })
      })

      it('test_needs_refresh_fires_flash_when_redirect_to_refresh_view', async () => {
        const spec = loginTestCase({
          refreshView: '/refresh_view',
          refreshMessage: 'Refresh',
          refreshMessageCategory: 'refresh',
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          assertRedirect(await c.get('/needs-refresh'), '/refresh_view?next=%2Fneeds-refresh')
          const messages: unknown = JSON.parse(await text(c, '/flashes?category=refresh'))
          assert.ok(Array.isArray(messages) && messages.includes('Refresh'))
        })
      })

      it('test_needs_refresh_flash_message_localized', async () => {
        const spec = loginTestCase({
          refreshView: '/refresh_view',
          refreshMessage: 'Refresh',
          refreshMessageCategory: 'refresh',
          localize: (message) => (message === 'Refresh' ? 'Aktualisieren' : message),
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          await c.get('/needs-refresh')
          const messages: unknown = JSON.parse(await text(c, '/flashes?category=refresh'))
          assert.ok(Array.isArray(messages) && messages.includes('Aktualisieren'))
        })
      })

      it('test_needs_refresh_aborts_401', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember')
          assert.equal((await c.get('/needs-refresh')).status, 401)
        })
      })

      it('test_redirects_to_refresh_view', async () => {
        const spec = loginTestCase({ refreshView: 'refresh_view' }, [
          { path: '/refresh-view', handler: () => '' },
        ])
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          assertRedirect(await c.get('/needs-refresh'), '/refresh-view?next=%2Fneeds-refresh')
        })
      })

      it('test_refresh_with_next_in_session', async () => {
        const spec = loginTestCase({ refreshView: 'refresh_view', useSessionForNext: true }, [
          // Flask: session.pop("next", "")
          { path: '/refresh-view', handler: ({ auth }) => auth.nextUrl('') },
        ])
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          assertRedirect(await c.get('/needs-refresh'), '/refresh-view')
          assert.equal(await text(c, '/refresh-view'), '/needs-refresh')
        })
      })

      it('test_confirm_login', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          assert.equal(await text(c, '/is-fresh'), 'False')
          assert.equal(await text(c, '/is-remembered'), 'True')
          await c.get('/confirm-login')
          assert.equal(await text(c, '/is-fresh'), 'True')
          assert.equal(await text(c, '/is-remembered'), 'True')
        })
      })

      it('test_user_login_confirmed_signal_fired', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          const confirmed = listen(spec.manager, 'userLoginConfirmed')
          await c.get('/confirm-login')
          confirmed.heardOne(({ auth }) => auth instanceof RequestAuth)
        })
      })

      // ---- Session hygiene and cookies

      it('test_session_not_modified', async () => {
        await withApp(adapter, loginTestCase(), async (c) => {
          const res = await c.get('/empty_session')
          assert.equal(res.body, 'modified=False')
          // Nothing after the handler modified the session either: no cookie is written.
          assert.deepEqual(res.setCookies, [])
        })
      })

      it('test_invalid_remember_cookie', async () => {
        const spec = loginTestCase({ remember: { domain: 'localhost.local' } })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          // Flask sets session["_user_id"] = None: here the session is gone altogether.
          c.restartBrowser()
          c.jar.set('remember', 'foo', { domain: 'localhost.local' })
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      // ---- Session protection

      it('test_session_protection_basic_passes_successive_requests', async () => {
        await withApp(adapter, loginTestCase({ sessionProtection: 'basic' }), async (c) => {
          await c.get('/login-notch-remember')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'True')
        })
      })

      it('test_session_protection_strong_passes_successive_requests', async () => {
        await withApp(adapter, loginTestCase({ sessionProtection: 'strong' }), async (c) => {
          await c.get('/login-notch-remember')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'True')
        })
      })

      it('test_session_protection_basic_marks_session_unfresh', async () => {
        await withApp(adapter, loginTestCase({ sessionProtection: 'basic' }), async (c) => {
          await c.get('/login-notch-remember')
          assert.equal(await text(c, '/username', DIFFERENT_UA), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'False')
        })
      })

      it('test_session_protection_basic_fires_signal', async () => {
        const spec = loginTestCase({ sessionProtection: 'basic' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const sessionProtected = listen(spec.manager, 'sessionProtected')
          await c.get('/username', DIFFERENT_UA)
          sessionProtected.heardOne(({ auth }) => auth instanceof RequestAuth)
        })
      })

      it('test_session_protection_basic_skips_when_remember_me', async () => {
        const spec = loginTestCase({ sessionProtection: 'basic' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          // Clear the session to force remember-me (and drop the old session identifier).
          c.restartBrowser()
          const sessionProtected = listen(spec.manager, 'sessionProtected')
          assert.equal(await text(c, '/username'), 'Notch')
          sessionProtected.heardNone()
          // Deliberate difference (Q1 fixed): the restored session is bound to this client, so
          // later requests do not trip protection either (Flask fires on every later request).
          assert.equal(await text(c, '/username'), 'Notch')
          sessionProtected.heardNone()
        })
      })

      it('test_session_protection_strong_skips_when_remember_me', async () => {
        const spec = loginTestCase({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          c.restartBrowser()
          const sessionProtected = listen(spec.manager, 'sessionProtected')
          assert.equal(await text(c, '/username'), 'Notch')
          sessionProtected.heardNone()
          // Deliberate difference (Q1 fixed): the second request keeps the user (Flask logs the
          // user out here and deletes the remember cookie).
          assert.equal(await text(c, '/username'), 'Notch')
          sessionProtected.heardNone()
        })
      })

      it('test_permanent_strong_session_protection_marks_session_unfresh', async () => {
        await withApp(adapter, loginTestCase({ sessionProtection: 'strong' }), async (c) => {
          await c.get('/login-notch-permanent')
          assert.equal(await text(c, '/username', DIFFERENT_UA), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'False')
        })
      })

      it('test_permanent_strong_session_protection_fires_signal', async () => {
        const spec = loginTestCase({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-permanent')
          const sessionProtected = listen(spec.manager, 'sessionProtected')
          await c.get('/username', DIFFERENT_UA)
          sessionProtected.heardOne(({ mode }) => mode === 'strong')
        })
      })

      it('test_session_protection_strong_deletes_session', async () => {
        const spec = loginTestCase({ sessionProtection: 'strong' }, [
          {
            path: '/set-foo',
            handler: ({ auth }) => {
              auth.session.set('foo', 'bar')
              return ''
            },
          },
          { path: '/foo', handler: ({ auth }) => JSON.stringify(auth.session.get('foo') ?? null) },
        ])
        await withApp(adapter, spec, async (c) => {
          // Unrelated data in the session (Flask writes it with session_transaction()).
          await c.get('/set-foo')
          await c.get('/login-notch-remember')
          assert.equal(await text(c, '/username', DIFFERENT_UA), 'Anonymous')
          assert.equal(await text(c, '/foo'), '"bar"')
          // The remember cookie goes too, so the login cannot come back.
          assert.equal(c.jar.get('remember'), undefined)
        })
      })

      it('test_session_protection_strong_fires_signal_user_agent', async () => {
        const spec = loginTestCase({ sessionProtection: 'strong' })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const sessionProtected = listen(spec.manager, 'sessionProtected')
          await c.get('/username', DIFFERENT_UA)
          sessionProtected.heardOne(({ mode }) => mode === 'strong')
        })
      })

      for (const [name, mode] of [
        ['test_session_protection_skip_when_off_and_anonymous', null],
        ['test_session_protection_skip_when_basic_and_anonymous', 'basic'],
      ] as const) {
        it(name, async () => {
          const spec = loginTestCase({ sessionProtection: mode })
          await withApp(adapter, spec, async (c) => {
            const accessed = listen(spec.manager, 'userAccessed')
            await c.get('/')
            accessed.heardNone()
            accessed.off()

            const sessionProtected = listen(spec.manager, 'sessionProtected')
            assert.equal(await text(c, '/username'), 'Anonymous')
            sessionProtected.heardNone()

            // No session data was set: the browser holds no cookie at all.
            assert.deepEqual(c.jar.all(), [])
          })
        })
      }

      // ---- Lazy access, decorators, misc

      it('test_requests_without_accessing_session', async () => {
        const spec = loginTestCase()
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch')

          const quiet = listen(spec.manager, 'userAccessed')
          await c.get('/')
          quiet.heardNone()
          quiet.off()

          const accessed = listen(spec.manager, 'userAccessed')
          assert.equal(await text(c, '/username'), 'Notch')
          accessed.heardOne(({ auth }) => auth instanceof RequestAuth)
        })
      })

      it('test_login_required_decorator', async () => {
        const spec = loginTestCase({}, [
          { path: '/protected', guard: 'login', handler: () => 'Access Granted' },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/protected')).status, 401)
          await c.get('/login-notch')
          assert.match(await text(c, '/protected'), /Access Granted/)
        })
      })

      it('test_login_required_decorator_with_async', async () => {
        const spec = loginTestCase({}, [
          {
            path: '/protected',
            guard: 'login',
            handler: async () => {
              await new Promise((resolve) => setImmediate(resolve))
              return 'Access Granted'
            },
          },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/protected')).status, 401)
          await c.get('/login-notch')
          const res = await c.get('/protected')
          assert.equal(res.status, 200)
          assert.match(res.body, /Access Granted/)
        })
      })

      it('test_fresh_login_required_decorator', async () => {
        const spec = loginTestCase({}, [
          { path: '/very-protected', guard: 'fresh', handler: () => 'Access Granted' },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/very-protected')).status, 401)

          await c.get('/login-notch-remember')
          assert.equal(await text(c, '/very-protected'), 'Access Granted')

          c.restartBrowser()
          assert.equal((await c.get('/very-protected')).status, 401)

          await c.get('/confirm-login')
          assert.equal(await text(c, '/very-protected'), 'Access Granted')
        })
      })

      it('test_user_context_processor', async () => {
        // No template context processor here: the anonymous current user is what templates get.
        const spec = loginTestCase({}, [
          {
            path: '/context-current-user',
            handler: async ({ auth }) => py((await auth.currentUser()) instanceof AnonymousUser),
          },
        ])
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/context-current-user'), 'True')
        })
      })
    })

    // ------------------------------------------------------------------ LoginViaRequestTestCase (8)
    describe('LoginViaRequestTestCase', () => {
      const loginViaRequest = (): Spec => ({
        manager: new LoginManager<User, UserId>({
          secret: SECRET,
          sessionProtection: null,
          remember: { name: 'remember' },
          // Flask: request.args.get("user_id") or session.get("_user_id")
          requestLoader: (request, auth) =>
            userFrom(request.query('user_id') || auth.sessionUserId),
        }),
        routes: [
          { path: '/', handler: () => 'Welcome!' },
          { path: '/login-notch', handler: async ({ auth }) => py(await auth.loginUser(notch)) },
          {
            path: '/username',
            handler: async ({ auth }) => {
              const name = await usernameOf(auth)
              return name === 'Anonymous' ? { status: 401, body: name } : name
            },
          },
          { path: '/logout', handler: async ({ auth }) => py(await auth.logoutUser()) },
          {
            path: '/is-anonymous',
            handler: async ({ auth }) => py((await auth.currentUser()).isAnonymous === true),
          },
        ],
      })

      it('test_has_no_user_loader_callback', async () => {
        const spec = loginViaRequest()
        assert.equal(spec.manager.userCallback, undefined)
        // A request loader alone is enough for the adapter.
        await withApp(adapter, spec, async (c) => {
          assert.equal(await text(c, '/'), 'Welcome!')
        })
      })

      it('test_request_context_users_are_anonymous', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          assert.equal(await text(c, '/is-anonymous'), 'True')
        })
      })

      it('test_defaults_anonymous', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          assert.equal((await c.get('/username')).status, 401)
        })
      })

      it('test_login_via_request', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          assert.equal(await text(c, '/username?user_id=2'), 'Steve')
        })
      })

      it('test_login_via_request_uses_cookie_when_already_logged_in', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          await c.get('/login-notch')
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/username?user_id=2'), 'Steve')
        })
      })

      it('test_login_invalid_user_with_request', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          assert.equal((await c.get('/username?user_id=9000')).status, 401)
        })
      })

      it('test_login_invalid_user_with_request_when_already_logged_in', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          assert.equal(await text(c, '/login-notch'), 'True')
          assert.equal((await c.get('/username?user_id=9000')).status, 401)
        })
      })

      it('test_login_user_with_request_does_not_modify_session', async () => {
        await withApp(adapter, loginViaRequest(), async (c) => {
          assert.equal(await text(c, '/username?user_id=2'), 'Steve')
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })
    })

    // ------------------------------------------------------------------ TestLoginUrlGeneration (4)
    describe('TestLoginUrlGeneration', () => {
      const PROTECTED = 'http://localhost/protected'

      it('test_make_next_param', () => {
        assert.equal(makeNextParam('/login', 'http://localhost/profile'), '/profile')
        assert.equal(
          makeNextParam('https://localhost/login', 'http://localhost/profile'),
          'http://localhost/profile',
        )
        assert.equal(
          makeNextParam('http://accounts.localhost/login', 'http://localhost/profile'),
          'http://localhost/profile',
        )
      })

      it('test_login_url_generation', () => {
        assert.equal(loginUrl('/login', PROTECTED, 'n'), '/login?n=%2Fprotected')
        assert.equal(loginUrl('/login', PROTECTED), '/login?next=%2Fprotected')
        assert.equal(
          loginUrl('https://auth.localhost/login', PROTECTED),
          'https://auth.localhost/login?next=http%3A%2F%2Flocalhost%2Fprotected',
        )
        assert.equal(
          loginUrl('/login?affil=cgnu', PROTECTED),
          '/login?affil=cgnu&next=%2Fprotected',
        )
      })

      it('test_login_url_generation_with_view', () => {
        // An endpoint name resolves through the manager's resolveEndpoint (Flask's url_for).
        const manager = new LoginManager<User, UserId>({
          secret: SECRET,
          userLoader: loadByInt,
          resolveEndpoint: urlFor,
        })
        assert.equal(manager.loginUrl('/protected', 'login'), '/login?next=%2Fprotected')
      })

      it('test_login_url_no_next_url', () => {
        assert.equal(loginUrl('/foo'), '/foo')
      })
    })

    // ------------------------------------------------------------------ CookieEncodingTestCase (2)
    describe('CookieEncodingTestCase', () => {
      it('test_cookie_encoding', async () => {
        // Flask reads the key from the app's SECRET_KEY: here the manager's secret keys the
        // remember cookie in Flask's format, end to end.
        const spec = loginTestCase({ remember: { format: 'flask' } })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const value = c.jar.get('remember')?.value
          assert.equal(value, encodeCookie('1', SECRET))
          assert.equal(decodeCookie(value ?? '', SECRET), '1')
          assert.equal(decodeCookie('Foo|BAD_BASH', SECRET), null)
          assert.equal(decodeCookie('no bar', SECRET), null)
          c.restartBrowser()
          assert.equal(await text(c, '/username'), 'Notch')
        })
        // Flask's vector itself (its SECRET_KEY is too short to be a manager secret).
        assert.equal(encodeCookie('1', 'deterministic'), FLASK_COOKIE)
      })

      it('test_cookie_encoding_with_key', () => {
        const key = 'deterministic'
        assert.equal(encodeCookie('1', key), FLASK_COOKIE)
        assert.equal(decodeCookie(FLASK_COOKIE, key), '1')
        assert.equal(decodeCookie('Foo|BAD_BASH', key), null)
        assert.equal(decodeCookie('no bar', key), null)
      })
    })

    // ------------------------------------------------------------------ SecretKeyTestCase (3)
    describe('SecretKeyTestCase', () => {
      it('test_bytes', () => {
        const key = Uint8Array.of(0x9e, 0x8f, 0x14)
        assert.equal(encodeCookie('1', key), LATIN1_KEY_COOKIE)
        assert.equal(decodeCookie(LATIN1_KEY_COOKIE, key), '1')
      })

      it('test_native', async () => {
        // Flask: a str SECRET_KEY is encoded as latin-1. Here the manager's secret (with the
        // same three characters first) keys the Flask-format remember cookie.
        const secret = `\x9e\x8f\x14${SECRET}`
        const spec = loginTestCase({ secret, remember: { format: 'flask' } })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch-remember')
          const value = c.jar.get('remember')?.value
          assert.equal(value, encodeCookie('1', Buffer.from(secret, 'latin1')))
          assert.notEqual(value, encodeCookie('1', Buffer.from(secret, 'utf8')))
        })
      })

      it('test_default', () => {
        // No app at all: an explicit str key is latin-1 too, not UTF-8.
        assert.equal(encodeCookie('1', '\x9e\x8f\x14'), LATIN1_KEY_COOKIE)
      })
    })

    // ------------------------------------------------------------------ UserMixinTestCase (5)
    describe('UserMixinTestCase', () => {
      class ImplicitIdUser extends UserMixin {
        readonly id: number
        constructor(id: number) {
          super()
          this.id = id
        }
      }
      class ExplicitIdUser extends UserMixin {
        readonly name: string
        constructor(name: string) {
          super()
          this.name = name
        }
      }

      it('test_default_values', () => {
        const user = new ImplicitIdUser(1)
        assert.equal(user.isActive, true)
        assert.equal(user.isAuthenticated, true)
        assert.equal(user.isAnonymous, false)
      })

      it('test_get_id_from_id_attribute', () => {
        assert.equal(new ImplicitIdUser(1).getId(), '1')
      })

      it('test_get_id_not_implemented', () => {
        const user = new ExplicitIdUser('Notch')
        // Deliberate difference: JavaScript has no NotImplementedError; a TypeError says the same.
        assert.throws(() => user.getId(), {
          name: 'TypeError',
          message: 'No `id` attribute - override `getId`',
        })
      })

      it('test_equality', () => {
        const first = new ImplicitIdUser(1)
        const same = new ImplicitIdUser(1)
        const different = new ImplicitIdUser(2)
        // `==` / `!=` are `equals()` and its negation.
        assert.equal(first.equals(same), true)
        assert.equal(first.equals(different), false)
        assert.equal(!first.equals(same), false)
        assert.equal(!first.equals(different), true)
        assert.equal(first.equals('1'), false)
        assert.equal(!first.equals('1'), true)
      })

      it('test_hashable', () => {
        // Identity hashing, as Flask restores for UserMixin: usable as Map/Set keys.
        const user = new UserMixin()
        const other = new UserMixin()
        const seen = new Map<UserMixin, number>([[user, 1]])
        assert.equal(seen.get(user), 1)
        assert.equal(seen.has(other), false)
        assert.equal(new Set([user, user]).size, 1)
      })
    })

    // ------------------------------------------------------------------ AnonymousUserTestCase (1)
    describe('AnonymousUserTestCase', () => {
      it('test_values', () => {
        const user = new AnonymousUser()
        assert.equal(user.isActive, false)
        assert.equal(user.isAuthenticated, false)
        assert.equal(user.isAnonymous, true)
        assert.equal(user.getId(), null)
      })
    })

    // ------------------------------------------------------------------ UnicodeCookieUserIDTestCase (2)
    describe('UnicodeCookieUserIDTestCase', () => {
      // Run in both remember formats: the Flask format is where a non-ASCII id needs escaping.
      const unicodeApp = (format: 'sealed' | 'flask'): Spec => ({
        manager: new LoginManager<User, UserId>({
          secret: SECRET,
          sessionProtection: null,
          remember: { name: 'remember', format },
          userLoader: loadByStr,
        }),
        routes: [
          { path: '/', handler: () => 'Welcome!' },
          {
            path: '/login-germanjapanese-remember',
            handler: async ({ auth }) =>
              py(await auth.loginUser(germanjapanese, { remember: true })),
          },
          { path: '/username', handler: ({ auth }) => usernameOf(auth) },
          {
            path: '/userid',
            handler: async ({ auth }) => {
              const user = await auth.getUser()
              return user?.isAuthenticated ? String(user.id) : 'wrong_id'
            },
          },
        ],
      })

      it('test_remember_me_username', async () => {
        for (const format of ['sealed', 'flask'] as const) {
          await withApp(adapter, unicodeApp(format), async (c) => {
            assert.equal(await text(c, '/login-germanjapanese-remember'), 'True')
            c.restartBrowser()
            assert.equal(await text(c, '/username'), 'Müller', `remember format ${format}`)
          })
        }
      })

      it('test_remember_me_user_id', async () => {
        for (const format of ['sealed', 'flask'] as const) {
          await withApp(adapter, unicodeApp(format), async (c) => {
            assert.equal(await text(c, '/login-germanjapanese-remember'), 'True')
            c.restartBrowser()
            assert.equal(await text(c, '/userid'), '佐藤', `remember format ${format}`)
          })
        }
      })
    })

    // ------------------------------------------------------------------ StrictHostForRedirectsTestCase (2)
    describe('StrictHostForRedirectsTestCase', () => {
      const strictHostApp = (overrides: Partial<Options> = {}): Spec => ({
        manager: new LoginManager<User, UserId>({
          secret: SECRET,
          sessionProtection: null,
          remember: { name: 'remember' },
          userLoader: loadByStr,
          resolveEndpoint: urlFor,
          loginView: 'login',
          ...overrides,
        }),
        routes: [
          { path: '/secret', handler: ({ auth }) => auth.unauthorized() },
          { path: '/', handler: () => 'Welcome!' },
          { path: '/login', handler: ({ auth }) => auth.nextUrl('') },
        ],
      })

      it('test_unauthorized_uses_host_from_next_url', async () => {
        await withApp(adapter, strictHostApp(), async (c) => {
          const res = await c.get('/secret', { headers: { host: 'foo.com' } })
          assertRedirect(res, '/login?next=%2Fsecret')
        })
      })

      it('test_unauthorized_uses_host_from_config_when_available', async () => {
        await withApp(adapter, strictHostApp({ forceHostForRedirects: 'good.com' }), async (c) => {
          const res = await c.get('/secret', { headers: { host: 'bad.com' } })
          assertRedirect(res, '//good.com/login?next=%2Fsecret')
        })
      })
    })

    // ------------------------------------------------------------------ CustomTestClientTestCase (4)
    describe('CustomTestClientTestCase', () => {
      // Flask's FlaskLoginClient is `testLogin` from login-manager/testing: a Cookie header value
      // that logs the user in, for any adapter.
      const customClientApp = (sessionProtection: Options['sessionProtection'] = null): Spec => ({
        manager: new LoginManager<User, UserId>({
          secret: SECRET,
          sessionProtection,
          remember: { name: 'remember' },
          userLoader: loadByInt,
        }),
        routes: [
          { path: '/username', handler: ({ auth }) => usernameOf(auth) },
          { path: '/is-fresh', handler: async ({ auth }) => py(await auth.isFresh()) },
        ],
      })

      it('test_no_args_to_test_client', async () => {
        await withApp(adapter, customClientApp(), async (c) => {
          assert.equal(await text(c, '/username'), 'Anonymous')
        })
      })

      it('test_user_arg_to_test_client', async () => {
        const spec = customClientApp()
        await withApp(adapter, spec, async (c) => {
          c.useCookieHeader(await testLogin(spec.manager, notch))
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'True')
        })
      })

      it('test_fresh_login_arg_to_test_client', async () => {
        const spec = customClientApp()
        await withApp(adapter, spec, async (c) => {
          c.useCookieHeader(await testLogin(spec.manager, notch, { fresh: false }))
          assert.equal(await text(c, '/username'), 'Notch')
          assert.equal(await text(c, '/is-fresh'), 'False')
        })
      })

      it('test_session_protection_modes', async () => {
        // Deliberate difference: sessions made by testLogin bind to the first client that uses
        // them, so every mode keeps the user and the requested freshness (Flask: basic marks them
        // non-fresh, strong logs the user out, because FlaskLoginClient writes no identifier).
        for (const mode of [null, 'basic', 'strong'] as const) {
          const spec = customClientApp(mode)
          await withServer(adapter, spec, async (app) => {
            for (const fresh of [false, true]) {
              const c = new TestClient(app.baseUrl)
              c.useCookieHeader(await testLogin(spec.manager, notch, { fresh }))
              const where = `sessionProtection=${mode}, fresh=${fresh}`
              assert.equal(await text(c, '/username'), 'Notch', where)
              assert.equal(await text(c, '/is-fresh'), py(fresh), where)
            }
          })
        }
      })
    })
  })
}

/*
 * Flask-Login test class            tests
 * --------------------------------  -----
 * StaticTestCase                        2
 * InitializationTestCase                3
 * MethodViewLoginTestCase               1
 * LoginTestCase                        70
 * LoginViaRequestTestCase               8
 * TestLoginUrlGeneration                4
 * CookieEncodingTestCase                2
 * SecretKeyTestCase                     3
 * UserMixinTestCase                     5
 * AnonymousUserTestCase                 1
 * UnicodeCookieUserIDTestCase           2
 * StrictHostForRedirectsTestCase        2
 * CustomTestClientTestCase              4
 * --------------------------------  -----
 * Total                               107   (per adapter)
 */
