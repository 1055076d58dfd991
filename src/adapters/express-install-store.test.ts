// Express's login.install(app) with a session store: install() creates req.auth on first read
// but loads nothing, so a handler without a guard that reads the user synchronously meets the
// store's asynchrony. Anonymous visitors simply work; a logged-in one gets an error that names
// the store as the cause and says what to do.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import express, { type NextFunction, type Request, type Response } from 'express'
import request from 'supertest'
import { LoginManager } from '../core/login-manager.ts'
import { UserMixin } from '../core/mixins.ts'
import { MemoryStore } from '../stores/memory.ts'
import { testLogin } from '../testing/index.ts'
import { expressLogin } from './express.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

function setup() {
  const manager = new LoginManager<User>({
    secret: randomBytes(32).toString('base64url'),
    userLoader: (id) => (id === 'ada' ? new User(id) : null),
    session: { store: new MemoryStore() },
  })
  const login = expressLogin(manager)
  const app = express()
  login.install(app)
  app.get('/whoami', (req, res) => {
    res.send(login.auth(req).user?.id ?? 'anonymous')
  })
  app.get('/flashes', (req, res) => {
    res.json(login.auth(req).consumeFlashes())
  })
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).send(error.message)
  })
  return { manager, app }
}

describe('expressLogin().install(app) with a session store, no guard, synchronous reads', () => {
  it('without a cookie, req.auth.user is null and the session is empty: no error', async () => {
    const { app } = setup()
    const who = await request(app).get('/whoami')
    assert.equal(who.status, 200)
    assert.equal(who.text, 'anonymous')
    assert.deepEqual((await request(app).get('/flashes')).body, [])
  })

  it('with a store session, the errors name the store and the fix (not the user loader)', async () => {
    const { manager, app } = setup()
    const cookie = await testLogin(manager, new User('ada'))
    const who = await request(app).get('/whoami').set('Cookie', cookie)
    assert.equal(who.status, 500)
    assert.match(who.text, /^ERR_USER_NOT_LOADED: the login is in the session store /)
    assert.doesNotMatch(who.text, /user loader is asynchronous/)
    const flashes = await request(app).get('/flashes').set('Cookie', cookie)
    assert.match(
      flashes.text,
      /^ERR_SESSION_NOT_LOADED: .*`app\.use\(login\.middleware\)`; `login\.install\(app\)` alone does not load it/,
    )
    assert.doesNotMatch(flashes.text, /adapters do this for you/)
  })
})
