/**
 * Issue 10's login-flow items, over HTTP on every adapter layout in `./adapters/`:
 *
 * - §1: a guarded handler never runs without a user. An anonymous request with an exempt method
 *   (`OPTIONS`, a CORS preflight) gets `204 No Content` from the guard itself, on guards used as
 *   middleware and guards wrapping a handler, and from `auth.checkLogin()`; headers a CORS
 *   middleware set before the guard survive. With a login, the handler runs (fresh guard too).
 * - §1: Flask-format remember cookies for ids outside the Basic Multilingual Plane round-trip.
 * - §2: a login (or a remember-me restore, or a logout) ends every session the request presented
 *   (`Cookie: s=<attacker>; s=<victim>`), and an expired store record is deleted on every path.
 * - §4: `session.permanent` survives a logout that leaves the session otherwise empty.
 *
 * Server-side sessions use `MemoryStore` on the real clock while the manager's clock moves: an
 * expired record is then still in the store unless login-manager deleted it, and moving the
 * manager's clock back shows whether it did.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LoginManager, type LoginManagerOptions, MemoryStore, type UserId } from 'login-manager'
import { type ClientResponse, type ParsedSetCookie, TestClient } from '../support/client.ts'
import { notch, steve, USERS, User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import {
  type AdapterHarness,
  type AppSpec,
  type RouteDef,
  type RunningApp,
  withApp,
} from './harness.ts'

// ------------------------------------------------------------------------------------ fixtures

const SECRET = 'hardening-auth-7DWmx7WUiLVq6sHNYFDRPQMlCt8ErdwnqxlY282bGwoSUin_'
const SESSION = '__Host-session'
const REMEMBER = '__Host-remember'
const SEVEN_HOURS = 7 * 3600

type Options = LoginManagerOptions<User, UserId>
type Route = RouteDef<User>
type Spec = AppSpec<User> & { manager: LoginManager<User, UserId> }

/** Users whose ids lie outside the Basic Multilingual Plane (surrogate pairs in UTF-16). */
const boom = new User('Boom', '💥')
const kichi = new User('Kichi', '𠮷x')
const ASTRAL = new Map<UserId, User>([
  ['💥', boom],
  ['𠮷x', kichi],
])

const py = (value: boolean): 'True' | 'False' => (value ? 'True' : 'False')
const load = (id: UserId): User | null => USERS.get(Number(id)) ?? ASTRAL.get(String(id)) ?? null

function mutableClock(start = Date.now()) {
  let time = start
  return {
    now: () => time,
    advance(seconds: number) {
      time += seconds * 1000
    },
  }
}

/** The name of the user a guarded handler runs for; throws (a 500) when there is none. */
function guardedName(user: User | null): string {
  if (user === null) throw new TypeError("Cannot read properties of null (reading 'name')")
  return user.name
}

function baseRoutes(): Route[] {
  return [
    { path: '/login-notch', handler: async ({ auth }) => py(await auth.loginUser(notch)) },
    {
      path: '/login-notch-stale',
      handler: async ({ auth }) => py(await auth.loginUser(notch, { fresh: false })),
    },
    {
      path: '/login-notch-remember',
      handler: async ({ auth }) => py(await auth.loginUser(notch, { remember: true })),
    },
    { path: '/login-steve', handler: async ({ auth }) => py(await auth.loginUser(steve)) },
    {
      path: '/login-notch-permanent',
      handler: async ({ auth }) => {
        auth.session.permanent = true
        return py(await auth.loginUser(notch))
      },
    },
    {
      path: '/login-as',
      handler: async ({ auth, query }) => {
        const user = load(query('id') ?? '')
        return user === null ? 'no such user' : py(await auth.loginUser(user, { remember: true }))
      },
    },
    {
      path: '/username',
      handler: async ({ auth }) => {
        const user = await auth.getUser()
        return user?.isAuthenticated ? user.name : 'Anonymous'
      },
    },
    {
      path: '/login-notch-remember-7h',
      handler: async ({ auth }) =>
        py(await auth.loginUser(notch, { remember: true, duration: SEVEN_HOURS })),
    },
    { path: '/logout', handler: async ({ auth }) => py(await auth.logoutUser()) },
    {
      path: '/confirm-login',
      handler: async ({ auth }) => {
        await auth.confirmLogin()
        return 'confirmed'
      },
    },
    { path: '/is-fresh', handler: async ({ auth }) => py(await auth.isFresh()) },
    {
      path: '/clear',
      handler: async ({ auth }) => {
        ;(await auth.getSession()).clear()
        return 'cleared'
      },
    },
    {
      path: '/flash',
      handler: ({ auth }) => {
        auth.flash('hello')
        return 'flashed'
      },
    },
    { path: '/is-permanent', handler: async ({ auth }) => py((await auth.getSession()).permanent) },
    { path: '/login', handler: () => 'the login page' },
  ]
}

function app(overrides: Partial<Options> = {}, routes: Route[] = []): Spec {
  const manager = new LoginManager<User, UserId>({ secret: SECRET, userLoader: load, ...overrides })
  return { manager, routes: [...baseRoutes(), ...routes] }
}

async function withServer(
  adapter: AdapterHarness,
  spec: Spec,
  body: (server: RunningApp) => Promise<void>,
): Promise<void> {
  const server = await adapter.start(spec)
  try {
    await body(server)
  } finally {
    await server.close()
  }
}

async function text(c: TestClient, path: string, init?: { headers?: Record<string, string> }) {
  const res = await c.get(path, init)
  assert.ok(res.status < 500, `${path} answered ${res.status}: ${res.body}`)
  return res.body
}

function cookieIn(res: ClientResponse, name: string): ParsedSetCookie | undefined {
  return res.setCookies.find((c) => c.name === name)
}

/** The value of a cookie in a client's jar. */
function jarValue(c: TestClient, name: string): string {
  const value = c.jar.get(name)?.value
  assert.ok(value !== undefined && value !== '', `no ${name} cookie in the jar`)
  return value
}

/** Who a request presenting only this session cookie value is logged in as. */
async function whoIs(server: RunningApp, sessionValue: string): Promise<string> {
  const probe = new TestClient(server.baseUrl)
  return text(probe, '/username', { headers: { cookie: `${SESSION}=${sessionValue}` } })
}

function assertNoContent(res: ClientResponse, what: string): void {
  assert.equal(res.status, 204, `${what}: expected the guard's 204, got ${res.status} ${res.body}`)
  assert.equal(res.body, '', `${what}: a 204 has no body`)
  assert.equal(res.location, null, `${what}: no redirect`)
}

// ------------------------------------------------------------------------------------ the suite

for (const adapter of adapters) {
  describe(adapter.name, () => {
    // ---------------------------------------------------------------- §1 exempt methods
    describe('exempt methods never run a guarded handler without a user', () => {
      /** Guarded routes for OPTIONS only and for every method, with both guards; `ran` counts handler runs. */
      function exemptApp(overrides: Partial<Options> = {}, extra: Partial<Spec> = {}) {
        const ran: string[] = []
        const guarded =
          (path: string): Route['handler'] =>
          ({ auth }) => {
            ran.push(path)
            return `protected data of ${guardedName(auth.user)}`
          }
        const routes: Route[] = [
          { method: 'OPTIONS', path: '/secret', guard: 'login', handler: guarded('/secret') },
          { method: 'OPTIONS', path: '/fresh', guard: 'fresh', handler: guarded('/fresh') },
          { method: 'ALL', path: '/all', guard: 'login', handler: guarded('/all') },
          { method: 'ALL', path: '/all-fresh', guard: 'fresh', handler: guarded('/all-fresh') },
          {
            method: 'ALL',
            path: '/check',
            handler: async ({ auth }) => (await auth.checkLogin()) ?? 'through',
          },
          {
            method: 'ALL',
            path: '/check-fresh',
            handler: async ({ auth }) => (await auth.checkFreshLogin()) ?? 'through',
          },
        ]
        return { spec: { ...app(overrides, routes), ...extra }, ran }
      }

      const GUARDED = ['/secret', '/fresh', '/all', '/all-fresh', '/check', '/check-fresh']

      it('anonymous OPTIONS: the guard answers 204 with no body; the handler does not run', async () => {
        const { spec, ran } = exemptApp()
        await withApp(adapter, spec, async (c) => {
          for (const path of GUARDED) {
            const res = await c.request('OPTIONS', path)
            assertNoContent(res, `OPTIONS ${path}`)
            assert.deepEqual(res.setCookies, [], `OPTIONS ${path}: nothing is written`)
          }
          assert.deepEqual(ran, [], 'no guarded handler ran')
          // The guard is still there for the other methods of an app.all() route.
          for (const path of ['/all', '/all-fresh', '/check', '/check-fresh']) {
            const res = await c.get(path)
            assert.equal(res.status, 401, `GET ${path}`)
            assert.doesNotMatch(res.body, /protected data/)
          }
          assert.deepEqual(ran, [])
        })
      })

      it('anonymous OPTIONS with a login view: still 204, no redirect and no flash', async () => {
        const { spec, ran } = exemptApp({ loginView: '/login' })
        await withApp(adapter, spec, async (c) => {
          for (const path of GUARDED) {
            const res = await c.request('OPTIONS', path)
            assertNoContent(res, `OPTIONS ${path}`)
            assert.equal(cookieIn(res, SESSION), undefined, 'no session is made for a flash')
          }
          assert.deepEqual(ran, [])
          assert.equal((await c.get('/all')).status, 302)
        })
      })

      it('an exempt request with a login runs the handler, behind the fresh guard too', async () => {
        const { spec, ran } = exemptApp()
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-notch')
          for (const path of ['/secret', '/fresh', '/all', '/all-fresh']) {
            const res = await c.request('OPTIONS', path)
            assert.equal(res.status, 200, `OPTIONS ${path}`)
            assert.equal(res.body, 'protected data of Notch')
          }
          assert.equal((await c.request('OPTIONS', '/check')).body, 'through')
          assert.equal((await c.request('OPTIONS', '/check-fresh')).body, 'through')
          // Not fresh: exempt methods pass the fresh guard (Flask-Login), other methods do not.
          await c.get('/login-notch-stale')
          ran.length = 0
          for (const path of ['/fresh', '/all-fresh']) {
            const res = await c.request('OPTIONS', path)
            assert.equal(res.status, 200, `OPTIONS ${path} (not fresh)`)
            assert.equal(res.body, 'protected data of Notch')
          }
          assert.equal((await c.request('OPTIONS', '/check-fresh')).body, 'through')
          assert.equal((await c.get('/all-fresh')).status, 401, 'GET needs a fresh login')
          assert.equal((await c.get('/check-fresh')).status, 401)
          assert.deepEqual(ran, ['/fresh', '/all-fresh'])
        })
      })

      it('an inactive user is not a login: the guard answers 204 and the handler does not run', async () => {
        const creeper = USERS.get(3) as User
        const { spec, ran } = exemptApp({}, {})
        spec.routes.push({
          path: '/login-creeper',
          handler: async ({ auth }) => py(await auth.loginUser(creeper, { force: true })),
        })
        await withApp(adapter, spec, async (c) => {
          await c.get('/login-creeper')
          for (const path of ['/secret', '/all', '/check']) {
            assertNoContent(await c.request('OPTIONS', path), `OPTIONS ${path}`)
          }
          assert.deepEqual(ran, [])
        })
      })

      it('headers a CORS middleware set before the guard survive on its 204', async () => {
        const cors = {
          'access-control-allow-origin': 'https://app.example',
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-credentials': 'true',
        }
        const { spec, ran } = exemptApp({}, { earlyHeaders: cors })
        await withApp(adapter, spec, async (c) => {
          for (const path of GUARDED) {
            const res = await c.request('OPTIONS', path, {
              headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
            })
            assertNoContent(res, `OPTIONS ${path}`)
            for (const [name, value] of Object.entries(cors)) {
              assert.equal(res.headers.get(name), value, `OPTIONS ${path}: ${name}`)
            }
          }
          assert.deepEqual(ran, [])
        })
      })

      it('with a session store: the same 204 without a login, the handler with one', async () => {
        const { spec, ran } = exemptApp({ session: { store: new MemoryStore() } })
        await withApp(adapter, spec, async (c) => {
          for (const path of GUARDED) assertNoContent(await c.request('OPTIONS', path), path)
          assert.deepEqual(ran, [])
          // An anonymous session in the store (a flash) changes nothing.
          await c.get('/flash')
          for (const path of GUARDED) assertNoContent(await c.request('OPTIONS', path), path)
          assert.deepEqual(ran, [])
          await c.get('/login-notch')
          for (const path of ['/secret', '/fresh', '/all', '/all-fresh']) {
            const res = await c.request('OPTIONS', path)
            assert.equal(res.status, 200, `OPTIONS ${path}`)
            assert.equal(res.body, 'protected data of Notch')
          }
        })
      })
    })

    // ---------------------------------------------------------------- §1 Flask ids beyond the BMP
    describe("remember.format 'flask': ids outside the Basic Multilingual Plane", () => {
      for (const user of [boom, kichi]) {
        it(`'${String(user.id)}' logs in, is remembered and restored after a browser restart`, async () => {
          const spec = app({ remember: { format: 'flask' } })
          await withApp(adapter, spec, async (c) => {
            const login = await c.get(`/login-as?id=${encodeURIComponent(String(user.id))}`)
            assert.equal(login.status, 200, login.body)
            assert.equal(login.body, 'True')
            const cookie = cookieIn(login, REMEMBER)
            assert.ok(cookie !== undefined, 'a remember cookie is set')
            // The id is percent-encoded as UTF-8, per code point, before Flask's `|HMAC`.
            assert.ok(
              cookie.value.startsWith(`${encodeURIComponent(String(user.id))}|`),
              cookie.value,
            )
            c.restartBrowser()
            assert.equal(await text(c, '/username'), user.name)
          })
        })
      }
    })

    // ---------------------------------------------------------------- §2 duplicate session cookies
    describe('a login ends every session the request presented', () => {
      it('store: Cookie s=<attacker>; s=<victim>, then a login: neither old session stays logged in', async () => {
        const spec = app({ session: { store: new MemoryStore() } })
        await withServer(adapter, spec, async (server) => {
          const victim = new TestClient(server.baseUrl)
          await victim.get('/login-notch')
          const victimValue = jarValue(victim, SESSION)
          const attacker = new TestClient(server.baseUrl)
          await attacker.get('/login-steve')
          const attackerValue = jarValue(attacker, SESSION)
          assert.equal(await whoIs(server, victimValue), 'Notch')
          assert.equal(await whoIs(server, attackerValue), 'Steve')

          const browser = new TestClient(server.baseUrl)
          const login = await browser.get('/login-notch', {
            headers: { cookie: `${SESSION}=${attackerValue}; ${SESSION}=${victimValue}` },
          })
          assert.equal(login.body, 'True')
          const fresh = cookieIn(login, SESSION)?.value
          assert.ok(fresh !== undefined && fresh !== attackerValue && fresh !== victimValue)
          assert.equal(await whoIs(server, attackerValue), 'Anonymous', 'the first one rotated')
          assert.equal(await whoIs(server, victimValue), 'Anonymous', 'the second one ended too')
          assert.equal(await whoIs(server, fresh), 'Notch', 'the new session is the login')
        })
      })

      it('store: a logout ends every presented session too', async () => {
        const spec = app({ session: { store: new MemoryStore() } })
        await withServer(adapter, spec, async (server) => {
          const one = new TestClient(server.baseUrl)
          await one.get('/login-notch')
          const first = jarValue(one, SESSION)
          const two = new TestClient(server.baseUrl)
          await two.get('/login-notch')
          const second = jarValue(two, SESSION)
          const browser = new TestClient(server.baseUrl)
          const logout = await browser.get('/logout', {
            headers: { cookie: `${SESSION}=${first}; ${SESSION}=${second}` },
          })
          assert.equal(logout.body, 'True')
          assert.equal(await whoIs(server, first), 'Anonymous')
          assert.equal(await whoIs(server, second), 'Anonymous')
        })
      })

      it('store: a remember-me restore over an anonymous session ends the other presented one', async () => {
        const spec = app({ session: { store: new MemoryStore() } })
        await withServer(adapter, spec, async (server) => {
          const remembered = new TestClient(server.baseUrl)
          await remembered.get('/login-notch-remember')
          const token = jarValue(remembered, REMEMBER)
          const loggedIn = new TestClient(server.baseUrl)
          await loggedIn.get('/login-steve')
          const other = jarValue(loggedIn, SESSION)
          const anonymous = new TestClient(server.baseUrl)
          await anonymous.get('/flash')
          const visitor = jarValue(anonymous, SESSION)

          const browser = new TestClient(server.baseUrl)
          const restored = await browser.get('/username', {
            headers: { cookie: `${SESSION}=${visitor}; ${SESSION}=${other}; ${REMEMBER}=${token}` },
          })
          assert.equal(restored.body, 'Notch')
          assert.equal(await whoIs(server, other), 'Anonymous')
          assert.equal(await whoIs(server, visitor), 'Anonymous')
        })
      })

      it('store: invalid, empty and repeated values among them are harmless', async () => {
        const spec = app({ session: { store: new MemoryStore() } })
        await withServer(adapter, spec, async (server) => {
          const victim = new TestClient(server.baseUrl)
          await victim.get('/login-steve')
          const value = jarValue(victim, SESSION)
          const browser = new TestClient(server.baseUrl)
          const login = await browser.get('/login-notch', {
            headers: {
              cookie: `${SESSION}=; ${SESSION}=not-a-session; ${SESSION}=${value}x; ${SESSION}="${value}"; ${SESSION}=${value}`,
            },
          })
          assert.equal(login.status, 200)
          assert.equal(login.body, 'True')
          assert.equal(await whoIs(server, value), 'Anonymous')
          assert.equal(await text(browser, '/username'), 'Notch')
        })
      })

      it('cookie sessions: Cookie s=<one>; s=<other>, then a login: no copy of either logs in again', async () => {
        await withServer(adapter, app(), async (server) => {
          const one = new TestClient(server.baseUrl)
          await one.get('/login-steve')
          const first = jarValue(one, SESSION)
          const two = new TestClient(server.baseUrl)
          await two.get('/login-notch')
          const second = jarValue(two, SESSION)
          const browser = new TestClient(server.baseUrl)
          const login = await browser.get('/login-notch', {
            headers: { cookie: `${SESSION}=${first}; ${SESSION}=${second}` },
          })
          assert.equal(login.body, 'True')
          assert.equal(await whoIs(server, first), 'Anonymous', 'the one that was read')
          assert.equal(await whoIs(server, second), 'Anonymous', 'the other one')
          assert.equal(await text(browser, '/username'), 'Notch')
        })
      })

      it('cookie sessions: a login with duplicate session cookies works and sets one new session', async () => {
        await withServer(adapter, app(), async (server) => {
          const one = new TestClient(server.baseUrl)
          await one.get('/login-steve')
          const steveValue = jarValue(one, SESSION)
          const browser = new TestClient(server.baseUrl)
          const login = await browser.get('/login-notch', {
            headers: { cookie: `${SESSION}=garbage; ${SESSION}=${steveValue}` },
          })
          assert.equal(login.body, 'True')
          assert.equal(login.setCookies.filter((c) => c.name === SESSION).length, 1)
          assert.equal(await text(browser, '/username'), 'Notch')
        })
      })
    })

    // ---------------------------------------------------------------- §2 expired store records
    describe('an expired store record is deleted on every path', () => {
      const IDLE = 600
      function expiringApp() {
        const clock = mutableClock()
        const spec = app(
          {
            now: clock.now,
            loginView: '/login',
            session: { store: new MemoryStore(), idleTimeout: IDLE },
          },
          [{ path: '/protected', guard: 'login', handler: ({ auth }) => guardedName(auth.user) }],
        )
        return { clock, spec }
      }

      const paths: [string, (c: TestClient, value: string) => Promise<ClientResponse>][] = [
        ['a guard redirect with a flash', (c) => c.get('/protected')],
        ['a login over it', (c) => c.get('/login-steve')],
        ['a plain read', (c) => c.get('/username')],
        ['a logout', (c) => c.get('/logout')],
        ['a flash (a new anonymous session)', (c) => c.get('/flash')],
      ]
      for (const [label, act] of paths) {
        it(`idle timeout, ${label}`, async () => {
          const { clock, spec } = expiringApp()
          await withServer(adapter, spec, async (server) => {
            const c = new TestClient(server.baseUrl)
            await c.get('/login-notch')
            const old = jarValue(c, SESSION)
            clock.advance(IDLE + 1)
            const res = await act(c, old)
            assert.ok(res.status < 500, `${res.status} ${res.body}`)
            // Back within the timeout: the old cookie would log in again if its record were left.
            clock.advance(-(IDLE + 1))
            assert.equal(await whoIs(server, old), 'Anonymous')
          })
        })
      }

      it('absolute timeout, a guard redirect with a flash', async () => {
        const clock = mutableClock()
        const spec = app(
          {
            now: clock.now,
            loginView: '/login',
            session: { store: new MemoryStore(), idleTimeout: IDLE, absoluteTimeout: 1800 },
          },
          [{ path: '/protected', guard: 'login', handler: ({ auth }) => guardedName(auth.user) }],
        )
        await withServer(adapter, spec, async (server) => {
          const c = new TestClient(server.baseUrl)
          await c.get('/login-notch')
          const old = jarValue(c, SESSION)
          // Active every 500 s (each request renews the idle timeout) until 1900 s > 1800 s.
          for (let i = 0; i < 3; i++) {
            clock.advance(500)
            assert.equal(await text(c, '/username'), 'Notch')
          }
          clock.advance(400)
          const res = await c.get('/protected')
          assert.equal(res.status, 302)
          assert.match(res.location ?? '', /^\/login\?next=/)
          clock.advance(-300)
          assert.equal(await whoIs(server, old), 'Anonymous')
        })
      })
    })

    // ---------------------------------------------------------------- §4 permanent through logout
    describe('session.permanent survives a logout that empties the session', () => {
      for (const [label, overrides] of [
        ['cookie sessions', {}],
        ['a session store', { session: { store: new MemoryStore() } }],
      ] as [string, Partial<Options>][]) {
        it(`${label}: permanent login, logout, login, browser restart: still logged in`, async () => {
          await withApp(adapter, app(overrides), async (c) => {
            await c.get('/login-notch-permanent')
            const logout = await c.get('/logout')
            const kept = cookieIn(logout, SESSION)
            assert.ok(kept !== undefined && kept.value !== '', 'the session cookie is kept')
            assert.ok((kept.maxAge ?? 0) > 0, 'and still permanent')
            assert.equal(await text(c, '/username'), 'Anonymous')
            assert.equal(await text(c, '/is-permanent'), 'True')
            await c.get('/login-notch')
            c.restartBrowser()
            assert.equal(await text(c, '/username'), 'Notch')
          })
        })

        it(`${label}: session.clear() drops permanent with the rest, as in Flask`, async () => {
          await withApp(adapter, app(overrides), async (c) => {
            await c.get('/login-notch-permanent')
            const cleared = await c.get('/clear')
            const deleted = cookieIn(cleared, SESSION)
            assert.ok(
              deleted !== undefined && deleted.value === '',
              'the session cookie is deleted',
            )
            await c.get('/login-notch')
            c.restartBrowser()
            assert.equal(await text(c, '/username'), 'Anonymous')
          })
        })
      }
    })

    // ---------------------------------------------------------------- §4 documented differences
    describe('differences from Flask-Login kept on purpose (coming-from-flask-login.md)', () => {
      it('confirmLogin() with nobody logged in changes nothing: the visitor is not fresh', async () => {
        await withApp(adapter, app(), async (c) => {
          assert.equal(await text(c, '/confirm-login'), 'confirmed')
          assert.equal(await text(c, '/is-fresh'), 'False')
        })
      })

      for (const [label, overrides] of [
        ['cookie sessions', {}],
        ['a session store', { session: { store: new MemoryStore() } }],
      ] as [string, Partial<Options>][]) {
        it(`${label}: refreshEachRequest after a restore keeps the login's own duration`, async () => {
          const spec = app({ ...overrides, remember: { refreshEachRequest: true } })
          await withApp(adapter, spec, async (c) => {
            const login = await c.get('/login-notch-remember-7h')
            assert.equal(cookieIn(login, REMEMBER)?.maxAge, SEVEN_HOURS)
            c.restartBrowser()
            assert.equal(await text(c, '/username'), 'Notch')
            const refreshed = await c.get('/username')
            assert.equal(refreshed.body, 'Notch')
            assert.equal(cookieIn(refreshed, REMEMBER)?.maxAge, SEVEN_HOURS, 'not the default')
          })
        })
      }
    })
  })
}
