/**
 * The mistakes a newcomer makes in the first hour, on every adapter: the library says what went
 * wrong and how to fix it, or the common case simply works.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { LoginManager, MemoryStore, type UserId } from 'login-manager'
import { notch, USERS, type User } from '../support/users.ts'
import { adapters } from './adapters/index.ts'
import { type AppSpec, type RouteDef, withApp } from './harness.ts'

const loadByInt = (id: UserId): User | null => USERS.get(Number(id)) ?? null

const loginRoute: RouteDef<User> = {
  method: 'POST',
  path: '/login',
  handler: async ({ auth }) => String(await auth.loginUser(notch)),
}

/** console.warn, recorded (and kept off the test output). */
function warnings(t: TestContext): () => string[] {
  const warn = t.mock.method(console, 'warn', () => {})
  return () => warn.mock.calls.map((call) => String(call.arguments[0]))
}

for (const adapter of adapters) {
  describe(`newcomer errors [${adapter.name}]`, () => {
    it('a login over plain HTTP to a non-loopback host warns once that the Secure cookies will be dropped', async (t) => {
      const warned = warnings(t)
      const manager = new LoginManager<User, UserId>({
        secret: randomBytes(32).toString('base64url'),
        userLoader: loadByInt,
      })
      const spec: AppSpec<User> = { manager, routes: [loginRoute] }
      await withApp(adapter, spec, async (c) => {
        const port = new URL(c.baseUrl).port
        assert.equal(
          (await c.post('/login', {}, { headers: { host: `localhost:${port}` } })).body,
          'true',
        )
        assert.equal((await c.post('/login')).body, 'true', 'http://127.0.0.1 keeps Secure cookies')
        assert.deepEqual(warned(), [], 'no warning on loopback hosts')
        const devbox = { headers: { host: 'devbox.test:6401' } }
        assert.equal((await c.post('/login', {}, devbox)).body, 'true')
        assert.equal((await c.post('/login', {}, devbox)).body, 'true')
      })
      assert.equal(warned().length, 1, `one warning: ${warned().join('\n')}`)
      assert.match(
        warned()[0] ?? '',
        /^login-manager: a login was answered over plain HTTP \(http:\/\/devbox\.test:6401\) with Secure cookies \(__Host-session and __Host-remember\)\./,
      )
      assert.match(warned()[0] ?? '', /Serve the app over HTTPS/)
    })

    it('with a session store, a handler without a guard reads auth.user synchronously: anonymous and logged-in requests both work', async () => {
      const manager = new LoginManager<User, UserId>({
        secret: randomBytes(32).toString('base64url'),
        userLoader: loadByInt,
        session: { store: new MemoryStore() },
      })
      const spec: AppSpec<User> = {
        manager,
        routes: [
          loginRoute,
          {
            path: '/whoami',
            handler: ({ auth }) => {
              try {
                return auth.user?.name ?? 'anonymous'
              } catch (error) {
                return (error as Error).message
              }
            },
          },
        ],
      }
      await withApp(adapter, spec, async (c) => {
        assert.equal((await c.get('/whoami')).body, 'anonymous', 'no cookie: nothing to wait for')
        await c.post('/login')
        // Each harness loads the store session for unguarded routes (middleware, plugin, or
        // Express's middleware on each unguarded route): the synchronous read then works.
        assert.equal((await c.get('/whoami')).body, 'Notch')
      })
    })
  })
}
