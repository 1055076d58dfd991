// The messages of the errors an app meets when it calls the API in a way that cannot work: each
// names the real cause and the fix.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { LoginManagerError } from '../shared/errors.ts'
import type { AdapterRequest } from '../shared/types.ts'
import { MemoryStore } from '../stores/memory.ts'
import { LoginManager, type LoginManagerOptions } from './login-manager.ts'
import { UserMixin } from './mixins.ts'

const SECRET = randomBytes(32).toString('base64url')

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

function adapter(cookie?: string): AdapterRequest {
  return {
    method: 'GET',
    url: '/',
    header: (name) => (name === 'cookie' ? cookie : undefined),
    clientAddress: '127.0.0.1',
    origin: 'http://localhost',
    raw: null,
  }
}

function code(expected: string, message: RegExp | string) {
  return (error: unknown) => {
    assert.ok(error instanceof LoginManagerError, `a LoginManagerError, got ${error}`)
    assert.equal(error.code, expected)
    if (typeof message === 'string') assert.equal(error.message, message)
    else assert.match(error.message, message)
    return true
  }
}

/** A manager on a MemoryStore, and the Cookie header of a browser where ada just logged in. */
async function storeLogin(extra: Partial<LoginManagerOptions<User>> = {}) {
  const manager = new LoginManager<User>({
    secret: SECRET,
    userLoader: (id) => new User(id),
    session: { store: new MemoryStore() },
    ...extra,
  })
  const login = manager.createAuth(adapter())
  await login.loginUser(new User('ada'))
  const effects = login.commitResponse(303)
  assert.equal(await effects?.pending, null)
  const cookie = (effects?.cookies ?? []).map((c) => c.split(';', 1)[0]).join('; ')
  return { manager, cookie }
}

describe('ERR_NO_USER_LOADER', () => {
  it("names login-manager's options, not Flask's user_loader", async () => {
    const manager = new LoginManager<User>({ secret: SECRET })
    assert.throws(
      () => manager.assertReady(),
      code(
        'ERR_NO_USER_LOADER',
        'ERR_NO_USER_LOADER: no user loader: pass `userLoader` (or `requestLoader`) to new LoginManager(), or call manager.userLoader(fn), before creating the adapter (expressLogin, honoLogin, fastifyLogin, koaLogin, fetchLogin)',
      ),
    )
    await assert.rejects(
      manager.createAuth(adapter()).getUser(),
      code(
        'ERR_NO_USER_LOADER',
        'ERR_NO_USER_LOADER: no user loader: pass `userLoader` (or `requestLoader`) to new LoginManager(), or call manager.userLoader(fn) before handling requests',
      ),
    )
  })
})

describe('reading auth.user and auth.session synchronously with a session store', () => {
  it('without a session cookie there is nothing to wait for: user is null at once', () => {
    const manager = new LoginManager<User>({
      secret: SECRET,
      userLoader: (id) => new User(id),
      session: { store: new MemoryStore() },
    })
    const auth = manager.createAuth(adapter())
    assert.equal(auth.user, null)
    assert.deepEqual(auth.consumeFlashes(), [])
  })

  it('with a store session nobody loaded, user names the store as the cause, not the loader', async () => {
    const { manager, cookie } = await storeLogin()
    assert.throws(
      () => manager.createAuth(adapter(cookie)).user,
      code(
        'ERR_USER_NOT_LOADED',
        "ERR_USER_NOT_LOADED: the login is in the session store (this request's session or remember-me token), which is asynchronous: use `await auth.getUser()`, or put a loginRequired() guard before this handler",
      ),
    )
    const auth = manager.createAuth(adapter(cookie))
    assert.equal((await auth.getUser())?.id, 'ada')
    assert.equal(auth.user?.id, 'ada', 'once loaded, the synchronous read works')
  })

  it('session says what loads it, without claiming the adapter already did', async () => {
    const { manager, cookie } = await storeLogin()
    assert.throws(
      () => manager.createAuth(adapter(cookie)).session,
      code(
        'ERR_SESSION_NOT_LOADED',
        "ERR_SESSION_NOT_LOADED: this request's session is in the session store and nothing has loaded it yet: `await auth.getSession()` (or `await auth.getUser()`) before reading it, or load it before your handlers with the adapter's middleware or a guard (Express, Hono and Koa: `app.use(login.middleware)`; Fastify: `await app.register(login.plugin)`)",
      ),
    )
  })

  it('with cookie sessions and an async loader, user still names the loader', async () => {
    const manager = new LoginManager<User>({
      secret: SECRET,
      userLoader: async (id) => new User(id),
    })
    const login = manager.createAuth(adapter())
    await login.loginUser(new User('ada'))
    const cookie = (login.commitResponse(303)?.cookies ?? [])
      .map((c) => c.split(';', 1)[0])
      .join('; ')
    assert.throws(
      () => manager.createAuth(adapter(cookie)).user,
      code(
        'ERR_USER_NOT_LOADED',
        /^ERR_USER_NOT_LOADED: the user loader is asynchronous: use `await auth.getUser\(\)`/,
      ),
    )
  })
})
