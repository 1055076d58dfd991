// Misuse fails loudly, on every adapter: a guard passed uncalled, an auth accessor without the
// adapter's middleware or plugin, a "guarded" accessor outside a guard. Each request gets an
// answer naming the fix through the framework's own error path, never a hang or a 404. Grouped
// by adapter, one `describe` each.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import express, { type NextFunction, type Request, type Response } from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { LoginManager, LoginManagerError, type UserId, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { fastifyLogin } from 'login-manager/fastify'
import { fetchLogin } from 'login-manager/fetch'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { type User as FlaskUser, notch, USERS } from '../support/users.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

const manager = () =>
  new LoginManager<User>({
    secret: randomBytes(32).toString('base64url'),
    userLoader: (id) => new User(id),
    loginView: '/login',
  })

/** GET `url`, failing the test (rather than hanging it) when no answer comes within 2 s. */
async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2_000) })
  return { status: res.status, body: await res.text() }
}

const servers: Server[] = []
const apps: FastifyInstance[] = []
after(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    server.close()
  }
  await Promise.all(apps.map((app) => app.close()))
})

async function serveExpress(app: express.Express): Promise<string> {
  // The error handler an app would have: it shows what the library threw.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as LoginManagerError
    res.status(500).send(`${e instanceof LoginManagerError ? e.code : 'other'} ${e.message}`)
  })
  const server = createServer(app)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function serveFastify(app: FastifyInstance): Promise<string> {
  apps.push(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

describe('misuse on Express', () => {
  it('app.use(login.loginRequired), uncalled: ERR_GUARD_NOT_CALLED naming the call, no hang', async () => {
    const login = expressLogin(manager())
    const app = express()
    app.use(login.loginRequired as never)
    app.get('/x', (_req, res) => {
      res.send('never')
    })
    const res = await get(`${await serveExpress(app)}/x`)
    assert.equal(res.status, 500)
    assert.match(res.body, /^ERR_GUARD_NOT_CALLED /)
    assert.match(res.body, /login\.loginRequired must be called: use login\.loginRequired\(\)/)
  })

  it('an uncalled fresh guard on a route, with the default error handler: a 500, no hang', async () => {
    const login = expressLogin(manager())
    const app = express()
    app.set('env', 'test')
    app.get('/x', login.freshLoginRequired as never, (_req, res) => {
      res.send('never')
    })
    const server = createServer(app)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const res = await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`)
    assert.equal(res.status, 500)
    assert.match(res.body, /ERR_GUARD_NOT_CALLED: login\.freshLoginRequired must be called/)
  })

  it('login.auth(req) where neither the middleware nor a guard ran: ERR_MIDDLEWARE_MISSING', async () => {
    const login = expressLogin(manager())
    const app = express()
    app.get('/x', (req, res) => {
      res.send(String(login.auth(req).user))
    })
    const res = await get(`${await serveExpress(app)}/x`)
    assert.equal(res.status, 500)
    assert.match(res.body, /^ERR_MIDDLEWARE_MISSING .*app\.use\(login\.middleware\)/)
  })
})

describe('misuse on Fastify', () => {
  it('{ preHandler: login.loginRequired }, uncalled: ERR_GUARD_NOT_CALLED naming the call, no hang', async () => {
    const login = fastifyLogin(manager())
    const app = Fastify()
    await app.register(login.plugin)
    app.get('/x', { preHandler: login.loginRequired as never }, async () => 'never')
    const res = await get(`${await serveFastify(app)}/x`)
    assert.equal(res.status, 500)
    const body = JSON.parse(res.body) as { code: string; message: string }
    assert.equal(body.code, 'ERR_GUARD_NOT_CALLED')
    assert.match(
      body.message,
      /use login\.loginRequired\(\) \(\{ preHandler: login\.loginRequired\(\) \}\)/,
    )
  })

  it('login.guarded(request) on a route without a guard: ERR_NOT_GUARDED, not a null user', async () => {
    const login = fastifyLogin(manager())
    const app = Fastify()
    await app.register(login.plugin)
    app.get('/x', async (request) => String(login.guarded(request).user))
    app.get('/guarded', { preHandler: login.loginRequired() }, async () => 'never')
    const base = await serveFastify(app)
    const res = await get(`${base}/x`)
    assert.equal(res.status, 500)
    const body = JSON.parse(res.body) as { code: string; message: string }
    assert.equal(body.code, 'ERR_NOT_GUARDED')
    assert.match(body.message, /preHandler: login\.loginRequired\(\)/)
    assert.equal((await get(`${base}/guarded`)).status, 302, 'a refused guard still answers')
  })

  it('login.auth(request) and the guards without the plugin: ERR_MIDDLEWARE_MISSING', async () => {
    const login = fastifyLogin(manager())
    const app = Fastify()
    app.get('/auth', async (request) => String(login.auth(request).user))
    app.get('/guarded', { preHandler: login.loginRequired() }, async () => 'never')
    const base = await serveFastify(app)
    for (const path of ['/auth', '/guarded']) {
      const res = await get(`${base}${path}`)
      assert.equal(res.status, 500, path)
      const body = JSON.parse(res.body) as { code: string; message: string }
      assert.equal(body.code, 'ERR_MIDDLEWARE_MISSING', path)
      assert.match(body.message, /await app\.register\(login\.plugin\)/, path)
    }
  })
})

// ---------------------------------------------------------------- Koa, Hono, Fetch

const SECRET = 'misuse-secret-Tq4Wn7Yb2Kx9Lm5Rc8Vd3Hj6'

function flaskManager() {
  return new LoginManager<FlaskUser, UserId>({
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
async function koaGet(app: Koa<AuthState<FlaskUser, UserId>>, path: string) {
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
      const login = koaLogin(flaskManager())
      const app = new Koa<AuthState<FlaskUser, UserId>>()
      app.use(login.middleware)
      // What a newcomer writes; Koa's types accept it (a function of no arguments is a Middleware).
      app.use(login[name] as unknown as Koa.Middleware<AuthState<FlaskUser, UserId>>)
      app.use((ctx) => {
        ctx.body = 'handler'
      })
      const { status, error } = await koaGet(app, '/')
      assert.equal(status, 500)
      assertMisuse(error, 'ERR_GUARD_NOT_CALLED', `login.${name}()`)
    })
  }

  it('a guard without app.use(login.middleware): ERR_MIDDLEWARE_MISSING naming the fix, not a TypeError', async () => {
    const login = koaLogin(flaskManager())
    const app = new Koa<AuthState<FlaskUser, UserId>>()
    app.use(login.loginRequired() as unknown as Koa.Middleware<AuthState<FlaskUser, UserId>>)
    const { status, error } = await koaGet(app, '/')
    assert.equal(status, 500)
    assertMisuse(error, 'ERR_MIDDLEWARE_MISSING', 'app.use(login.middleware)')
  })

  it('login.auth(ctx) without the middleware: ERR_MIDDLEWARE_MISSING; with it, the auth object', async () => {
    const login = koaLogin(flaskManager())
    const bare = new Koa<AuthState<FlaskUser, UserId>>()
    bare.use((ctx) => {
      ctx.body = String(login.auth(ctx).isAuthenticated)
    })
    const { status, error } = await koaGet(bare, '/')
    assert.equal(status, 500)
    assertMisuse(error, 'ERR_MIDDLEWARE_MISSING', 'login.auth(ctx)')

    const app = new Koa<AuthState<FlaskUser, UserId>>()
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
    const hono = new Hono<AuthEnv<FlaskUser, UserId>>()
    hono.onError((error, c) => {
      errors.push(error)
      return c.text('Internal Server Error', 500)
    })
    return { hono, errors }
  }

  for (const name of ['loginRequired', 'freshLoginRequired'] as const) {
    it(`app.use(login.${name}) uncalled: ERR_GUARD_NOT_CALLED through Hono's error handler`, async () => {
      const login = honoLogin(flaskManager())
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
    const login = honoLogin(flaskManager())
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
      const login = fetchLogin(flaskManager())
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
      const login = fetchLogin(flaskManager())
      const serverHandler = login[name] as unknown as (request: globalThis.Request) => unknown
      assert.throws(
        () => serverHandler(new globalThis.Request('http://127.0.0.1/')),
        (error) => {
          assertMisuse(error, 'ERR_GUARD_NOT_CALLED', `login.${name}(`)
          return true
        },
      )
    })
  }

  it('login.apply() with an auth object login.auth() did not give: ERR_MIDDLEWARE_MISSING', async () => {
    const login = fetchLogin(flaskManager())
    const other = fetchLogin(flaskManager())
    const auth = await other.auth(new globalThis.Request('http://127.0.0.1/'))
    await assert.rejects(login.apply(auth, new globalThis.Response('x')), (error) => {
      assertMisuse(error, 'ERR_MIDDLEWARE_MISSING', 'login.auth(request)')
      return true
    })
    const own = await login.auth(new globalThis.Request('http://127.0.0.1/'))
    assert.equal((await login.apply(own, new globalThis.Response('x'))).status, 200)
  })
})
