/**
 * Misuse fails loudly (issue 11, §3): a guard passed uncalled, a guard or `login.auth()` without
 * the middleware the adapter needs. Each fails the request with a `LoginManagerError` saying
 * what to write instead, through the framework's own error path: never a hang, never a 404,
 * never a TypeError.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { Hono } from 'hono'
import Koa from 'koa'
import { LoginManager, LoginManagerError, type UserId } from 'login-manager'
import { fetchLogin } from 'login-manager/fetch'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { notch, USERS, type User } from '../support/users.ts'

const SECRET = 'misuse-secret-Tq4Wn7Yb2Kx9Lm5Rc8Vd3Hj6'

function manager() {
  return new LoginManager<User, UserId>({
    secret: SECRET,
    userLoader: (id) => USERS.get(Number(id)) ?? null,
    loginView: '/login',
  })
}

/** Asserts a LoginManagerError with this code whose message contains `says`. */
function assertMisuse(error: unknown, code: string, says: string): void {
  assert.ok(error instanceof LoginManagerError, `a LoginManagerError, got ${String(error)}`)
  assert.equal(error.code, code)
  assert.ok(error.message.includes(says), `"${error.message}" says ${says}`)
}

/** Serves a Koa app on 127.0.0.1 and returns one GET's status, and the error Koa reported. */
async function koaGet(app: Koa<AuthState<User, UserId>>, path: string) {
  app.silent = true
  const errors: unknown[] = []
  app.on('error', (error) => errors.push(error))
  const server: Server = createServer(app.callback()).listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(5_000),
    })
    await res.text()
    return { status: res.status, error: errors[0] }
  } finally {
    server.closeAllConnections()
    server.close()
  }
}

describe('misuse: Koa', () => {
  for (const name of ['loginRequired', 'freshLoginRequired'] as const) {
    it(`app.use(login.${name}) uncalled: ERR_GUARD_NOT_CALLED at the first request, not a 404`, async () => {
      const login = koaLogin(manager())
      const app = new Koa<AuthState<User, UserId>>()
      app.use(login.middleware)
      // What a newcomer writes; Koa's types accept it (a function of no arguments is a Middleware).
      app.use(login[name] as unknown as Koa.Middleware<AuthState<User, UserId>>)
      app.use((ctx) => {
        ctx.body = 'handler'
      })
      const { status, error } = await koaGet(app, '/')
      assert.equal(status, 500)
      assertMisuse(error, 'ERR_GUARD_NOT_CALLED', `login.${name}()`)
    })
  }

  it('a guard without app.use(login.middleware): ERR_MIDDLEWARE_MISSING naming the fix, not a TypeError', async () => {
    const login = koaLogin(manager())
    const app = new Koa<AuthState<User, UserId>>()
    app.use(login.loginRequired() as unknown as Koa.Middleware<AuthState<User, UserId>>)
    const { status, error } = await koaGet(app, '/')
    assert.equal(status, 500)
    assertMisuse(error, 'ERR_MIDDLEWARE_MISSING', 'app.use(login.middleware)')
  })

  it('login.auth(ctx) without the middleware: ERR_MIDDLEWARE_MISSING; with it, the auth object', async () => {
    const login = koaLogin(manager())
    const bare = new Koa<AuthState<User, UserId>>()
    bare.use((ctx) => {
      ctx.body = String(login.auth(ctx).isAuthenticated)
    })
    const { status, error } = await koaGet(bare, '/')
    assert.equal(status, 500)
    assertMisuse(error, 'ERR_MIDDLEWARE_MISSING', 'login.auth(ctx)')

    const app = new Koa<AuthState<User, UserId>>()
    app.use(login.middleware)
    app.use((ctx) => {
      assert.equal(login.auth(ctx), ctx.state.auth)
      ctx.body = 'ok'
    })
    assert.equal((await koaGet(app, '/')).status, 200)
  })
})

describe('misuse: Hono', () => {
  /** A Hono app whose error handler records what it got. */
  function app() {
    const errors: unknown[] = []
    const hono = new Hono<AuthEnv<User, UserId>>()
    hono.onError((error, c) => {
      errors.push(error)
      return c.text('Internal Server Error', 500)
    })
    return { hono, errors }
  }

  for (const name of ['loginRequired', 'freshLoginRequired'] as const) {
    it(`app.use(login.${name}) uncalled: ERR_GUARD_NOT_CALLED through Hono's error handler`, async () => {
      const login = honoLogin(manager())
      const { hono, errors } = app()
      // A type error too (test/types); a JavaScript app gets this.
      hono.use(login[name] as unknown as Parameters<typeof hono.use>[0])
      hono.get('/', (c) => c.text('handler'))
      const res = await hono.request('/')
      assert.equal(res.status, 500)
      assertMisuse(errors[0], 'ERR_GUARD_NOT_CALLED', `login.${name}()`)
    })
  }

  it('the guards work without login.middleware: the redirect, then the handler with the cookie applied', async () => {
    const login = honoLogin(manager())
    const { hono, errors } = app()
    hono.get('/protected', login.loginRequired(), (c) => c.text(`Hello ${c.var.auth.user?.name}`))
    hono.get(
      '/wrapped',
      login.loginRequired((c) => c.text(`Hi ${c.var.auth.user.name}`)),
    )
    hono.get('/login', login.middleware, async (c) =>
      c.text(String(await c.var.auth.loginUser(notch))),
    )
    for (const path of ['/protected', '/wrapped']) {
      const res = await hono.request(path)
      assert.equal(res.status, 302, path)
      assert.match(res.headers.get('location') ?? '', /^\/login\?next=/)
    }
    const login200 = await hono.request('/login')
    const cookie = login200.headers
      .getSetCookie()
      .map((line) => line.split(';', 1)[0])
      .join('; ')
    const headers = { cookie }
    assert.equal(await (await hono.request('/protected', { headers })).text(), 'Hello Notch')
    assert.equal(await (await hono.request('/wrapped', { headers })).text(), 'Hi Notch')
    assert.deepEqual(errors, [])
  })
})

describe('misuse: Fetch', () => {
  for (const name of ['loginRequired', 'freshLoginRequired'] as const) {
    it(`login.${name}() without a handler throws ERR_GUARD_NOT_CALLED at once, naming the call`, () => {
      const login = fetchLogin(manager())
      const guard = login[name] as unknown as () => unknown
      assert.throws(
        () => guard(),
        (error) => {
          assertMisuse(error, 'ERR_GUARD_NOT_CALLED', `login.${name}((request, auth) => response)`)
          return true
        },
      )
    })

    it(`login.${name} passed uncalled as the server's handler: ERR_GUARD_NOT_CALLED for the request`, () => {
      const login = fetchLogin(manager())
      const serverHandler = login[name] as unknown as (request: Request) => unknown
      assert.throws(
        () => serverHandler(new Request('http://127.0.0.1/')),
        (error) => {
          assertMisuse(error, 'ERR_GUARD_NOT_CALLED', `login.${name}(`)
          return true
        },
      )
    })
  }

  it('login.apply() with an auth object login.auth() did not give: ERR_MIDDLEWARE_MISSING', async () => {
    const login = fetchLogin(manager())
    const other = fetchLogin(manager())
    const auth = await other.auth(new Request('http://127.0.0.1/'))
    await assert.rejects(login.apply(auth, new Response('x')), (error) => {
      assertMisuse(error, 'ERR_MIDDLEWARE_MISSING', 'login.auth(request)')
      return true
    })
    const own = await login.auth(new Request('http://127.0.0.1/'))
    assert.equal((await login.apply(own, new Response('x'))).status, 200)
  })
})
