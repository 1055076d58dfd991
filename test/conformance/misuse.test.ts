// Misuse fails loudly, on every adapter: a guard passed uncalled, an auth accessor without the
// adapter's middleware or plugin, a "guarded" accessor outside a guard. Each request gets an
// answer naming the fix through the framework's own error path, never a hang or a 404. Grouped
// by adapter, one `describe` each.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import express, { type NextFunction, type Request, type Response } from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { LoginManager, LoginManagerError, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { fastifyLogin } from 'login-manager/fastify'

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
