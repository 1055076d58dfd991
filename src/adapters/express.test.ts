import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { describe, it } from 'node:test'
import express from 'express'
import request from 'supertest'
import { LoginManager } from '../core/login-manager.ts'
import { UserMixin } from '../core/mixins.ts'
import { testLogin } from '../testing/index.ts'
import { expressLogin } from './express.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

const SECRET = 'express-adapter-test-secret-0123456789abcdef'

function setup() {
  const manager = new LoginManager<User>({
    secret: SECRET,
    userLoader: (id) => (id === 'ada' ? new User(id) : null),
    loginView: '/login',
  })
  return { manager, login: expressLogin(manager) }
}

describe('expressLogin()', () => {
  it('gives every request a req.auth through the middleware; routes that never read it get no Vary', async () => {
    const { manager, login } = setup()
    const app = express()
    app.use(login.middleware)
    app.get('/plain', (_req, res) => {
      res.send('plain')
    })
    app.get('/who', async (req, res) => {
      const user = await login.auth(req).getUser()
      res.send(user?.id ?? 'nobody')
    })
    app.get(
      '/protected',
      login.loginRequired((req, res) => {
        res.send(req.auth.user.id)
      }),
    )
    const cookie = await testLogin(manager, new User('ada'))

    const plain = await request(app).get('/plain').set('Cookie', cookie)
    assert.equal(plain.text, 'plain')
    assert.equal(plain.headers.vary, undefined)
    assert.equal(plain.headers['set-cookie'], undefined)

    const who = await request(app).get('/who').set('Cookie', cookie)
    assert.equal(who.text, 'ada')
    assert.match(String(who.headers.vary), /Cookie/)

    const anonymous = await request(app).get('/protected')
    assert.equal(anonymous.status, 302)
    assert.match(String(anonymous.headers.location), /^\/login\?next=/)
  })

  it('applies cookies on every way of sending headers: streamed writes and an explicit writeHead', async () => {
    const { login } = setup()
    const app = express()
    app.use(login.middleware)
    app.get('/stream', (req, res) => {
      login.auth(req).flash('streamed')
      res.write('part 1, ')
      res.end('part 2')
    })
    app.get('/explicit', (req, res) => {
      login.auth(req).flash('explicit')
      res.writeHead(200, { 'content-type': 'text/plain', vary: 'Accept' })
      res.end('ok')
    })
    const stream = await request(app).get('/stream')
    assert.equal(stream.text, 'part 1, part 2')
    assert.equal(stream.headers['set-cookie']?.length, 1)
    assert.equal(stream.headers['cache-control'], 'private, no-store')

    const explicit = await request(app).get('/explicit')
    assert.equal(explicit.headers['set-cookie']?.length, 1)
    assert.equal(explicit.headers.vary, 'Accept, Cookie')
  })

  it('works under another library that patches res.writeHead per response (on-headers style)', async () => {
    const { login } = setup()
    const app = express()
    app.use(login.middleware)
    let patchRan = 0
    app.use((_req, res, next) => {
      const previous = res.writeHead
      res.writeHead = function patched(this: ServerResponse, ...args: unknown[]) {
        patchRan++
        this.setHeader('x-patched', '1')
        return (previous as (...a: unknown[]) => ServerResponse).apply(this, args)
      } as typeof res.writeHead
      next()
    })
    app.get('/flash', (req, res) => {
      login.auth(req).flash('hello')
      res.send('ok')
    })
    const response = await request(app).get('/flash')
    assert.equal(patchRan, 1)
    assert.equal(response.headers['x-patched'], '1')
    assert.equal(response.headers['set-cookie']?.length, 1)
  })

  it('a mounted sub-app sees the req.auth of the app it is mounted on', async () => {
    const { manager, login } = setup()
    const app = express()
    app.use(login.middleware)
    const sub = express()
    sub.get(
      '/protected',
      login.loginRequired((req, res) => {
        res.send(req.auth.user.id)
      }),
    )
    sub.get('/flash', (req, res) => {
      login.auth(req).flash('from the sub-app')
      res.send('flashed')
    })
    app.use('/sub', sub)
    const cookie = await testLogin(manager, new User('ada'))
    const guarded = await request(app).get('/sub/protected').set('Cookie', cookie)
    assert.equal(guarded.text, 'ada')
    const flashed = await request(app).get('/sub/flash')
    assert.equal(flashed.text, 'flashed')
    assert.equal(flashed.headers['set-cookie']?.length, 1)
  })

  it('guards work without the middleware; login.auth then says what is missing', async () => {
    const { manager, login } = setup()
    const app = express()
    app.get(
      '/protected',
      login.loginRequired((req, res) => {
        res.send(req.auth.user.id)
      }),
    )
    app.get('/unguarded', (req, res) => {
      try {
        login.auth(req)
        res.send('found')
      } catch (error) {
        res.status(500).send((error as Error).message)
      }
    })
    const cookie = await testLogin(manager, new User('ada'))
    assert.equal((await request(app).get('/protected').set('Cookie', cookie)).text, 'ada')
    const unguarded = await request(app).get('/unguarded')
    assert.equal(unguarded.status, 500)
    assert.match(unguarded.text, /^ERR_MIDDLEWARE_MISSING: .*app\.use\(login\.middleware\)/)
  })

  it('req.auth is an ordinary own property, and survives res.locals copied with a spread', async () => {
    const { manager, login } = setup()
    const app = express()
    app.use(login.middleware)
    app.get('/copy', (req, res) => {
      const own = Object.hasOwn(req, 'auth')
      // Replacing res.locals with a copy (the documented way) keeps login-manager's entry.
      res.locals = { ...res.locals, title: 'copied' }
      login.auth(req).flash('after the copy')
      res.send(`own=${own} user=${login.auth(req).user?.id ?? 'nobody'}`)
    })
    app.get('/read', (req, res) => {
      res.send(
        login
          .auth(req)
          .consumeFlashes()
          .map((f) => f.message)
          .join(','),
      )
    })
    const cookie = await testLogin(manager, new User('ada'))
    const copied = await request(app).get('/copy').set('Cookie', cookie)
    assert.equal(copied.text, 'own=true user=ada')
    const session = (copied.headers['set-cookie'] as unknown as string[] | undefined)?.[0]
    assert.ok(session, 'the flash set after the copy reaches the session cookie')
    const read = await request(app)
      .get('/read')
      .set('Cookie', session.split(';')[0] ?? '')
    assert.equal(read.text, 'after the copy')
  })

  it('req.auth stays undefined outside the middleware, whatever ran before', async () => {
    const { manager, login } = setup()
    const app = express()
    app.get('/outside', (req, res) => {
      res.send(String((req as { auth?: unknown }).auth))
    })
    app.use(login.middleware)
    app.get('/inside', (req, res) => {
      res.send(login.auth(req).user?.id ?? 'nobody')
    })
    const cookie = await testLogin(manager, new User('ada'))
    assert.equal((await request(app).get('/outside').set('Cookie', cookie)).text, 'undefined')
    assert.equal((await request(app).get('/inside').set('Cookie', cookie)).text, 'ada')
    assert.equal((await request(app).get('/outside').set('Cookie', cookie)).text, 'undefined')
  })

  it("reads the client address through Express's trust proxy setting only (a mounted app inherits it)", async () => {
    const { login } = setup()
    const make = (trust: boolean) => {
      const app = express()
      if (trust) app.set('trust proxy', 'loopback')
      app.use(login.middleware)
      const sub = express()
      sub.get('/ip', (req, res) => {
        res.send(login.auth(req).request.clientAddress ?? 'none')
      })
      app.use('/sub', sub)
      app.get('/ip', (req, res) => {
        res.send(login.auth(req).request.clientAddress ?? 'none')
      })
      return app
    }
    const forwarded = { 'X-Forwarded-For': '198.51.100.7' }
    const trusting = make(true)
    assert.equal((await request(trusting).get('/ip').set(forwarded)).text, '198.51.100.7')
    assert.equal((await request(trusting).get('/sub/ip').set(forwarded)).text, '198.51.100.7')
    const direct = make(false)
    const text = (await request(direct).get('/ip').set(forwarded)).text
    assert.notEqual(text, '198.51.100.7')
    assert.match(text, /127\.0\.0\.1|::1/)
  })

  it('a guard that creates the auth object after another middleware patched res.writeHead still applies cookies', async () => {
    const { login } = setup()
    const app = express()
    app.use((_req, res, next) => {
      const previous = res.writeHead
      res.writeHead = function patched(this: ServerResponse, ...args: unknown[]) {
        return (previous as (...a: unknown[]) => ServerResponse).apply(this, args)
      } as typeof res.writeHead
      next()
    })
    // Anonymous: the guard flashes the login message and redirects, which sets the cookie.
    app.get(
      '/protected',
      login.loginRequired((_req, res) => {
        res.send('never')
      }),
    )
    const first = await request(app).get('/protected')
    assert.equal(first.status, 302)
    assert.equal(first.headers['set-cookie']?.length, 1)
    const second = await request(app).get('/protected')
    assert.equal(second.headers['set-cookie']?.length, 1)
  })

  it('requests that overlap each see their own auth object, in the handler and in their response', async () => {
    const manager = new LoginManager<User>({
      secret: SECRET,
      userLoader: (id) => (id === 'ada' || id === 'bob' ? new User(id) : null),
    })
    const login = expressLogin(manager)
    const app = express()
    app.use(login.middleware)
    // Each request waits in its handler until released; `arrived` resolves once it is waiting.
    const gate = () => {
      const g = {
        release: () => {},
        arrived: () => {},
        released: Promise.resolve(),
        waiting: Promise.resolve(),
      }
      g.released = new Promise<void>((resolve) => {
        g.release = resolve
      })
      g.waiting = new Promise<void>((resolve) => {
        g.arrived = resolve
      })
      return g
    }
    const gates = { ada: gate(), bob: gate() }
    app.get(
      '/wait/:who',
      login.loginRequired(async (req, res) => {
        const g = gates[req.params.who as 'ada' | 'bob']
        g.arrived()
        await g.released
        // Read while the other request's auth object is the latest one created.
        req.auth.flash(`done ${req.params.who}`)
        res.send(`${req.params.who} sees ${req.auth.user.id}`)
      }),
    )
    const ada = await testLogin(manager, new User('ada'))
    const bob = await testLogin(manager, new User('bob'))
    const first = request(app)
      .get('/wait/ada')
      .set('Cookie', ada)
      .then((r) => r)
    await gates.ada.waiting
    const second = request(app)
      .get('/wait/bob')
      .set('Cookie', bob)
      .then((r) => r)
    await gates.bob.waiting
    gates.ada.release()
    const adaResponse = await first
    gates.bob.release()
    const bobResponse = await second
    assert.equal(adaResponse.text, 'ada sees ada')
    assert.equal(bobResponse.text, 'bob sees bob')
    // Each flash reached its own request's cookie: each response found its own auth object.
    for (const [response, who] of [
      [adaResponse, 'ada'],
      [bobResponse, 'bob'],
    ] as const) {
      const cookie = (response.headers['set-cookie'] as unknown as string[])[0] ?? ''
      const check = manager.createAuth({
        method: 'GET',
        url: '/',
        header: (name) => (name === 'cookie' ? cookie.split(';')[0] : undefined),
        clientAddress: '127.0.0.1',
        origin: 'http://127.0.0.1',
        raw: null,
      })
      assert.equal(check.sessionUserId, who)
      assert.deepEqual(
        check.consumeFlashes().map((f) => f.message),
        [`done ${who}`],
      )
    }
  })

  it('a request that logs in through req.auth gets the session cookie', async () => {
    const { login } = setup()
    const app = express()
    app.use(login.middleware)
    app.post('/login', async (req, res) => {
      await login.auth(req).loginUser(new User('ada'))
      res.send('in')
    })
    app.get(
      '/protected',
      login.loginRequired((req, res) => {
        res.send(`hi ${req.auth.user.id}`)
      }),
    )
    const loggedIn = await request(app).post('/login')
    const setCookie = loggedIn.headers['set-cookie'] as unknown as string[]
    assert.equal(setCookie.length, 1)
    const cookie = String(setCookie[0]).split(';')[0] as string
    const page = await request(app).get('/protected').set('Cookie', cookie)
    assert.equal(page.text, 'hi ada')
  })
})
