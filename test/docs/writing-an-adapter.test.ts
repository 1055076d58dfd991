// docs/writing-an-adapter.md: the node:http adapter built there on login-manager/adapter works
// end to end (log in, a guarded page, log out) and applies the failure rule with a store whose
// writes fail.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { LoginManager, MemoryStore, type SessionStore, UserMixin } from 'login-manager'
import { nodeLogin } from '../../examples/snippets/node-http-adapter.ts'
import { TestClient } from '../support/client.ts'

class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

class FailingStore extends MemoryStore {
  failWrites = false
  override async write(...args: Parameters<MemoryStore['write']>) {
    if (this.failWrites) throw new Error('store down')
    return super.write(...args)
  }
}

async function serve(store: SessionStore | undefined, run: (c: TestClient) => Promise<void>) {
  const manager = new LoginManager<User>({
    secret: randomBytes(32).toString('base64url'),
    userLoader: (id) => (id === 'ann' ? new User(id) : null),
    loginView: '/login',
    session: { store },
  })
  manager.on('storeError', () => {})
  const login = nodeLogin(manager)
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/login': login.handle(async (_req, res, auth) => {
      await auth.loginUser(new User('ann'))
      res.setHeader('x-app', '1')
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    }),
    '/private': login.loginRequired((_req, res, auth) => {
      res.end(`Hello, ${auth.user.id}`)
    }),
    '/logout': login.handle(async (_req, res, auth) => {
      await auth.logoutUser()
      res.end('logged out')
    }),
  }
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://localhost').pathname]
    if (route === undefined) {
      res.statusCode = 404
      res.end()
    } else route(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    await run(new TestClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  } finally {
    server.closeAllConnections()
    server.close()
  }
}

describe('docs/writing-an-adapter.md: the node:http adapter', () => {
  for (const [name, store] of [
    ['cookie sessions', () => undefined],
    ['a MemoryStore', () => new MemoryStore()],
  ] as const) {
    it(`logs in, serves a guarded page, logs out (${name})`, async () => {
      await serve(store(), async (c) => {
        const refused = await c.get('/private')
        assert.equal(refused.status, 302)
        assert.equal(refused.location, '/login?next=%2Fprivate')
        assert.equal(refused.body, 'Redirecting to /login?next=%2Fprivate')
        const login = await c.get('/login')
        assert.equal(login.status, 200)
        assert.equal(login.headers.get('cache-control'), 'private, no-store')
        assert.match(login.headers.get('vary') ?? '', /Cookie/)
        const page = await c.get('/private')
        assert.equal(page.body, 'Hello, ann')
        assert.match(page.headers.get('vary') ?? '', /Cookie/)
        assert.equal((await c.get('/logout')).body, 'logged out')
        assert.equal((await c.get('/private')).status, 302)
      })
    })
  }

  it('replaces the whole response with the store-failure reply when a write fails', async () => {
    const store = new FailingStore()
    store.failWrites = true
    await serve(store, async (c) => {
      const res = await c.get('/login')
      assert.equal(res.status, 503)
      assert.equal(res.body, 'Service Unavailable: the session store cannot be reached')
      const headers = Object.fromEntries(
        [...res.headers].filter(
          ([n]) =>
            !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(
              n,
            ),
        ),
      )
      assert.deepEqual(headers, {
        'content-type': 'text/plain; charset=utf-8',
        'retry-after': '5',
        'cache-control': 'no-store',
        vary: 'Cookie',
      })
      assert.deepEqual(res.setCookies, [])
    })
  })
})
