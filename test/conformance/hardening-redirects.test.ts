/**
 * Redirects and cache headers after the outside review of issue 10 (§1 non-ASCII login views and
 * the session `next`, §3 redirects and headers), over HTTP against every adapter in
 * `./adapters/`. The rules checked here:
 * - a `Location` never makes a request fail, and every adapter sends the same bytes: what Flask's
 *   `redirect` sends after Werkzeug's `iri_to_uri`;
 * - `nextUrl()` never hands out a target that a browser resolves to another host;
 * - `next` never carries the client's own `Host` header;
 * - `loginViews` prefixes match the way the framework routes;
 * - a response that depends on the session is never cacheable by a shared cache.
 *
 * The end of the file drives framework options the conformance harness does not set (Express's
 * `case sensitive routing`, Fastify's `routerOptions.caseSensitive`, the Koa adapter's own option).
 *
 * @module
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { type AuthOutcome, LoginManager, type LoginManagerOptions, redirect } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { fastifyLogin } from 'login-manager/fastify'
import { koaLogin } from 'login-manager/koa'
import { type ClientResponse, TestClient } from '../support/client.ts'
import { notch, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import { type AppSpec, type RouteDef, withApp } from './harness.ts'

// ------------------------------------------------------------------------------------ fixtures

const SECRET = 'hardening-redirects-secret-Xq7Lm2Pw9Rk4Tz8Vn3'
const SESSION = '__Host-session'

type Options = LoginManagerOptions<User, number>
type Manager = LoginManager<User, number>
type Route = RouteDef<User>

const loadUser = (id: number): User | null => USERS.get(Number(id)) ?? null

function routes(): Route[] {
  return [
    { path: '/login', handler: async ({ auth }) => String(await auth.loginUser(notch)) },
    {
      path: '/login-stale',
      handler: async ({ auth }) => String(await auth.loginUser(notch, { fresh: false })),
    },
    { path: '/protected', guard: 'login', handler: () => 'the secret' },
    { path: '/fresh', guard: 'fresh', handler: () => 'the fresh secret' },
    { path: '/first/protected', guard: 'login', handler: () => 'first secret' },
    // What a login handler does after a successful login.
    { path: '/go', handler: ({ auth }) => redirect(auth.nextUrl('/home')) },
    // Reads the session without changing it.
    { path: '/has', handler: ({ auth }) => String(auth.session.has('k')) },
    {
      path: '/has-own-cache',
      handler: ({ auth }) => ({
        body: String(auth.session.has('k')),
        headers: { 'cache-control': 'no-cache' },
      }),
    },
    {
      path: '/has-headers',
      handler: ({ auth }) => ({ body: String(auth.session.has('k')), headers: { 'x-a': '1' } }),
    },
    {
      path: '/set',
      handler: ({ auth }) => {
        auth.session.set('k', 1)
        return 'set'
      },
    },
    { path: '/untouched', handler: () => 'nothing' },
  ]
}

function app(overrides: Partial<Options> = {}, extra: Route[] = []): AppSpec<User> {
  const manager: Manager = new LoginManager<User, number>({
    secret: SECRET,
    userLoader: loadUser,
    loginView: '/login',
    ...overrides,
  })
  return { manager, routes: [...routes(), ...extra] }
}

function sessionCookie(res: ClientResponse) {
  return res.setCookies.find((cookie) => cookie.name === SESSION)
}

function assertVaryCookie(res: ClientResponse, label: string): void {
  const vary = (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase())
  assert.ok(vary.includes('cookie'), `${label}: Vary is ${res.headers.get('vary')}`)
}

// ------------------------------------------------------------------------------------ scenarios

for (const adapter of adapters) {
  describe(adapter.name, () => {
    describe('non-ASCII login and refresh views (§1)', () => {
      it('a login view in Chinese or with an umlaut redirects, percent-encoded as Flask-Login does', async () => {
        for (const [view, encoded] of [
          ['/登录', '/%E7%99%BB%E5%BD%95'],
          ['/anmeldung-ü', '/anmeldung-%C3%BC'],
        ]) {
          await withApp(adapter, app({ loginView: view }), async (c) => {
            const res = await c.get('/protected')
            assert.equal(res.status, 302, view)
            assert.equal(res.location, `${encoded}?next=%2Fprotected`, view)
          })
        }
      })

      it('the same with useSessionForNext, and for a view under a prefix', async () => {
        const spec = app({
          loginView: '/登录',
          useSessionForNext: true,
          loginViews: { '/first': '/erste-anmeldung-ü' },
        })
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/protected')).location, '/%E7%99%BB%E5%BD%95')
          assert.equal((await c.get('/first/protected')).location, '/erste-anmeldung-%C3%BC')
        })
      })

      it('a refresh view with non-ASCII characters redirects too', async () => {
        const spec = app({ refreshView: '/erneut-anmelden-ü' })
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/login-stale')).body, 'true')
          const res = await c.get('/fresh')
          assert.equal(res.status, 302)
          assert.equal(res.location, '/erneut-anmelden-%C3%BC?next=%2Ffresh')
        })
      })
    })

    describe('Location values are encoded once, in the core (§3)', () => {
      const literal = (location: string): AuthOutcome => ({
        type: 'redirect',
        status: 302,
        location,
      })
      const extra: Route[] = [
        { path: '/to-angle', handler: () => redirect('/a<b>"c"?q=<x>#"f"') },
        { path: '/to-literal', handler: () => literal('/ü<b>?x="1"') },
        { path: '/to-escaped', handler: () => redirect('/already%20encoded%3Cok%3E?q=%22') },
        { path: '/to-idn', handler: () => literal('https://bücher.example/straße') },
        { path: '/next-angle', handler: ({ auth }) => redirect(auth.nextUrl('/home')) },
      ]

      it('characters outside the URL code points are percent-encoded on every adapter', async () => {
        await withApp(adapter, app({}, extra), async (c) => {
          assert.equal((await c.get('/to-angle')).location, '/a%3Cb%3E%22c%22?q=%3Cx%3E#%22f%22')
          // An outcome built by hand (not through redirect()) is encoded by the renderer.
          assert.equal((await c.get('/to-literal')).location, '/%C3%BC%3Cb%3E?x=%221%22')
          assert.equal(
            (await c.get('/to-idn')).location,
            'https://xn--bcher-kva.example/stra%C3%9Fe',
          )
        })
      })

      it('existing escapes are never encoded twice', async () => {
        await withApp(adapter, app({}, extra), async (c) => {
          assert.equal((await c.get('/to-escaped')).location, '/already%20encoded%3Cok%3E?q=%22')
        })
      })

      it('a next with quotes and angle brackets comes back encoded', async () => {
        await withApp(adapter, app({}, extra), async (c) => {
          const res = await c.get(`/next-angle?next=${encodeURIComponent('/a<b>"c"')}`)
          assert.equal(res.location, '/a%3Cb%3E%22c%22')
        })
      })
    })

    describe('next with dot segments (§3)', () => {
      it('targets a browser resolves to another host are refused, encoded dots included', async () => {
        await withApp(adapter, app(), async (c) => {
          for (const next of [
            '/..//evil.com',
            '/a/..//evil.com',
            '/a/b/../..//evil.com',
            '/.//evil.com',
            '/%2e%2e//evil.com',
            '/%2E%2E//evil.com/x',
            '/a/%2e%2e//evil.com',
            '/.%2e//evil.com',
          ]) {
            const res = await c.get(`/go?next=${encodeURIComponent(next)}`)
            assert.equal(res.location, '/home', next)
          }
        })
      })

      it('dot segments that stay on the site are kept as given', async () => {
        await withApp(adapter, app(), async (c) => {
          for (const next of ['/a/../b', '/a/%2e%2e/b', '/a/b/..//c', '/./x']) {
            const res = await c.get(`/go?next=${encodeURIComponent(next)}`)
            assert.equal(res.location, next, next)
          }
        })
      })
    })

    describe('useSessionForNext keeps only a next that nextUrl() accepts (§1)', () => {
      it('a 3,000-character URL is not stored: no 5xx, a small cookie, the fallback after login', async () => {
        const spec = app({ useSessionForNext: true })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get(`/protected?q=${'a'.repeat(3000)}`)
          assert.equal(res.status, 302)
          assert.equal(res.location, '/login')
          const cookie = sessionCookie(res)
          assert.ok(cookie !== undefined, 'the flash needs a session cookie')
          assert.ok(cookie.value.length < 1000, `cookie of ${cookie.value.length} bytes`)
          assert.equal((await c.get('/go')).location, '/home')
        })
      })

      it('a long URL after a short one drops the short one: the user is not sent to an old page', async () => {
        const spec = app({ useSessionForNext: true })
        await withApp(adapter, spec, async (c) => {
          await c.get('/protected?q=short')
          assert.equal((await c.get(`/protected?q=${'a'.repeat(3000)}`)).status, 302)
          assert.equal((await c.get('/go')).location, '/home')
        })
      })

      it('a next within the limit is still kept and used', async () => {
        const spec = app({ useSessionForNext: true })
        await withApp(adapter, spec, async (c) => {
          await c.get(`/protected?q=${'a'.repeat(1000)}`)
          assert.equal((await c.get('/go')).location, `/protected?q=${'a'.repeat(1000)}`)
        })
      })
    })

    describe('an absolute login view never gets the client Host in next (§3)', () => {
      it('without origin: the path only', async () => {
        const spec = app({ loginView: 'https://auth.example/login' })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/protected?x=1', { headers: { host: 'evil.com' } })
          assert.equal(res.status, 302)
          assert.equal(res.location, 'https://auth.example/login?next=%2Fprotected%3Fx%3D1')
          assert.doesNotMatch(`${res.location} ${res.body}`, /evil/)
        })
      })

      it('without origin, with useSessionForNext: the stored next is the path too', async () => {
        const spec = app({ loginView: 'https://auth.example/login', useSessionForNext: true })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/protected', { headers: { host: 'evil.com' } })
          assert.equal(res.location, 'https://auth.example/login')
          assert.equal((await c.get('/go')).location, '/protected')
        })
      })

      it('with origin: the configured origin', async () => {
        const spec = app({ loginView: 'https://auth.example/login', origin: 'https://app.example' })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/protected', { headers: { host: 'evil.com' } })
          assert.equal(
            res.location,
            'https://auth.example/login?next=https%3A%2F%2Fapp.example%2Fprotected',
          )
        })
      })
    })

    describe('loginViews prefixes match as the framework routes (§3)', () => {
      it('a path the framework serves under a prefix gets that prefix’s login view, in any letter case', async () => {
        const spec = app({ loginViews: { '/first': '/first_login' } })
        await withApp(
          adapter,
          spec,
          async (c) => {
            assert.equal(
              (await c.get('/first/protected')).location,
              '/first_login?next=%2Ffirst%2Fprotected',
            )
            assert.equal((await c.get('/protected')).location, '/login?next=%2Fprotected')
            const upper = await c.get('/FIRST/protected')
            // Express routes without regard to case by default; the others do not serve it.
            if (upper.status !== 404) {
              assert.equal(upper.status, 302)
              assert.equal(upper.location, '/first_login?next=%2FFIRST%2Fprotected')
            }
          },
          { throwOn404: false },
        )
      })
    })

    describe('an international forceHostForRedirects (§3)', () => {
      it('is accepted and emitted as punycode, as Flask-Login does', async () => {
        const spec = app({ forceHostForRedirects: 'bücher.example' })
        await withApp(adapter, spec, async (c) => {
          const res = await c.get('/protected')
          assert.equal(res.location, '//xn--bcher-kva.example/login?next=%2Fprotected')
        })
      })

      it('with a port, and with useSessionForNext', async () => {
        const spec = app({ forceHostForRedirects: 'Bücher.example:8443', useSessionForNext: true })
        await withApp(adapter, spec, async (c) => {
          assert.equal((await c.get('/protected')).location, '//xn--bcher-kva.example:8443/login')
        })
      })
    })

    describe('Cache-Control of responses that depend on the session (§3)', () => {
      it('a response that only read the session is private, with Vary: Cookie', async () => {
        await withApp(adapter, app(), async (c) => {
          // Anonymous: no cookie at all, and with one.
          for (const label of ['no cookie', 'with a session']) {
            for (const path of ['/has', '/has-headers']) {
              const res = await c.get(path)
              assert.equal(res.status, 200)
              assert.deepEqual(res.setCookies, [], `${label} ${path}`)
              assertVaryCookie(res, `${label} ${path}`)
              assert.equal(res.headers.get('cache-control'), 'private', `${label} ${path}`)
            }
            await c.get('/set')
          }
          await c.get('/login')
          const guarded = await c.get('/protected')
          assert.equal(guarded.body, 'the secret')
          assert.equal(guarded.headers.get('cache-control'), 'private')
          assertVaryCookie(guarded, 'guarded')
        })
      })

      it("the app's own Cache-Control is kept; a Set-Cookie response stays private, no-store", async () => {
        await withApp(adapter, app(), async (c) => {
          const own = await c.get('/has-own-cache')
          assert.equal(own.headers.get('cache-control'), 'no-cache')
          assertVaryCookie(own, 'own')
          const set = await c.get('/set')
          assert.ok(sessionCookie(set) !== undefined)
          assert.equal(set.headers.get('cache-control'), 'private, no-store')
          const redirected = await c.get('/protected')
          assert.equal(redirected.status, 302)
          assert.equal(redirected.headers.get('cache-control'), 'private, no-store')
        })
      })

      it('a response that never touched the session gets neither header', async () => {
        await withApp(adapter, app(), async (c) => {
          await c.get('/set')
          const res = await c.get('/untouched')
          assert.equal(res.headers.get('cache-control'), null)
          assert.doesNotMatch(res.headers.get('vary') ?? '', /cookie/i)
        })
      })
    })
  })
}

describe('manager.loginUrl() with a non-ASCII view', () => {
  it('gives the URL the guards redirect to', () => {
    const { manager } = app({ loginView: '/登录' })
    assert.equal(
      manager.loginUrl('http://localhost/protected'),
      '/%E7%99%BB%E5%BD%95?next=%2Fprotected',
    )
    assert.equal(manager.loginUrl(), '/%E7%99%BB%E5%BD%95')
  })
})

// --------------------------------------------------------------- framework routing options

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeAllConnections()
  await closed
}

describe('loginViews letter case follows each framework’s routing option', () => {
  const manager = () => app({ loginViews: { '/first': '/first_login' } }).manager

  it("Express with 'case sensitive routing': /FIRST is another route, with the app's login view", async () => {
    const login = expressLogin(manager())
    const web = express()
    web.set('case sensitive routing', true)
    web.get(
      '/first/protected',
      login.loginRequired((_req, res) => void res.send('first')),
    )
    web.get(
      '/FIRST/protected',
      login.loginRequired((_req, res) => void res.send('upper')),
    )
    const server = createServer(web)
    const base = await listen(server)
    try {
      const c = new TestClient(base)
      assert.equal((await c.get('/FIRST/protected')).location, '/login?next=%2FFIRST%2Fprotected')
      assert.equal(
        (await c.get('/first/protected')).location,
        '/first_login?next=%2Ffirst%2Fprotected',
      )
    } finally {
      await closeServer(server)
    }
  })

  it('Express mounted router: a prefix in another case is served by it and gets its view', async () => {
    const login = expressLogin(manager())
    const web = express()
    const first = express.Router()
    first.get(
      '/protected',
      login.loginRequired((_req, res) => void res.send('first')),
    )
    web.use(login.middleware)
    web.use('/first', first)
    const server = createServer(web)
    const base = await listen(server)
    try {
      const res = await new TestClient(base).get('/First/protected')
      assert.equal(res.location, '/first_login?next=%2FFirst%2Fprotected')
    } finally {
      await closeServer(server)
    }
  })

  it('Fastify with routerOptions.caseSensitive false: /FIRST is served and gets the prefix view', async () => {
    const login = fastifyLogin(manager())
    const web = Fastify({ routerOptions: { caseSensitive: false } })
    await web.register(login.plugin)
    web.get('/first/protected', { preHandler: login.loginRequired() }, async () => 'first')
    await web.listen({ port: 0, host: '127.0.0.1' })
    try {
      const base = `http://127.0.0.1:${(web.server.address() as AddressInfo).port}`
      const res = await new TestClient(base).get('/FIRST/protected')
      assert.equal(res.location, '/first_login?next=%2FFIRST%2Fprotected')
    } finally {
      const closed = web.close()
      web.server.closeAllConnections()
      await closed
    }
  })

  for (const sensitive of [false, true]) {
    it(`Koa with caseSensitiveRouting: ${sensitive}`, async () => {
      const login = koaLogin(manager(), sensitive ? { caseSensitiveRouting: true } : {})
      const web = new Koa()
      web.use(login.middleware)
      const guard = login.loginRequired()
      // A router of the kind the option describes: matching with or without letter case.
      web.use(async (ctx, next) => {
        const path = sensitive ? ctx.path : ctx.path.toLowerCase()
        if (path !== '/first/protected' && ctx.path !== '/FIRST/protected') return next()
        await guard(ctx as never, async () => {
          ctx.body = 'ok'
        })
      })
      const server = web.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      try {
        const res = await new TestClient(base).get('/FIRST/protected')
        assert.equal(
          res.location,
          sensitive ? '/login?next=%2FFIRST%2Fprotected' : '/first_login?next=%2FFIRST%2Fprotected',
        )
      } finally {
        await closeServer(server)
      }
    })
  }
})
