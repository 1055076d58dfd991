// Express with a session store: the middleware loads the request's session before the app runs,
// so handlers read the user and the session synchronously; a store write that fails replaces the
// whole response with the store-failure reply.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import express, { type NextFunction, type Request, type Response } from 'express'
import request from 'supertest'
import { LoginManager } from '../core/login-manager.ts'
import { UserMixin } from '../core/mixins.ts'
import type { StoreWrite } from '../session/store.ts'
import { MemoryStore } from '../stores/memory.ts'
import { testLogin } from '../testing/index.ts'
import { expressLogin } from './express.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

class FlakyStore extends MemoryStore {
  failWrite = false
  override async write(key: string, write: StoreWrite) {
    if (this.failWrite) throw new Error('store down')
    return super.write(key, write)
  }
}

function setup() {
  const store = new FlakyStore()
  const manager = new LoginManager<User>({
    secret: randomBytes(32).toString('base64url'),
    userLoader: (id) => (id === 'ada' ? new User(id) : null),
    session: { store },
  })
  manager.on('storeError', () => {})
  const login = expressLogin(manager)
  const app = express()
  app.use(login.middleware)
  app.get('/whoami', (req, res) => {
    res.send(login.auth(req).user?.id ?? 'anonymous')
  })
  app.get('/flashes', (req, res) => {
    res.json(login.auth(req).consumeFlashes())
  })
  app.get('/flash', (req, res) => {
    login.auth(req).flash('hello')
    res.set('x-app', '1').json({ ok: true })
  })
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).send(error.message)
  })
  return { manager, app, store }
}

describe('expressLogin() with a session store, behind the middleware', () => {
  it('without a cookie, req.auth.user is null and the session is empty', async () => {
    const { app } = setup()
    const who = await request(app).get('/whoami')
    assert.equal(who.status, 200)
    assert.equal(who.text, 'anonymous')
    assert.deepEqual((await request(app).get('/flashes')).body, [])
  })

  it('with a store session, synchronous reads of the user and the session work', async () => {
    const { manager, app } = setup()
    const cookie = await testLogin(manager, new User('ada'))
    const who = await request(app).get('/whoami').set('Cookie', cookie)
    assert.equal(who.text, 'ada')
    assert.deepEqual((await request(app).get('/flashes').set('Cookie', cookie)).body, [])
  })

  it('a failed write replaces the response entirely with the store-failure reply', async () => {
    const { app, store } = setup()
    store.failWrite = true
    const res = await request(app).get('/flash')
    assert.equal(res.status, 503)
    assert.equal(res.text, 'Service Unavailable: the session store cannot be reached')
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(res.headers['retry-after'], '5')
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(res.headers.vary, 'Cookie')
    assert.equal(res.headers['x-app'], undefined)
    assert.equal(res.headers['x-powered-by'], undefined)
    assert.equal(res.headers['set-cookie'], undefined)
  })
})
