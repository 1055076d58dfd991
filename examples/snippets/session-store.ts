// One app, cookie sessions or server-side sessions: only the manager's options differ.
// SESSION_STORE=cookie (default) | memory | redis (REDIS_URL); nothing else changes.
import express from 'express'
import { Redis } from 'ioredis'
import { LoginManager, MemoryStore, type SessionStore, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { RedisStore } from 'login-manager/redis'

export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

export async function storeFromEnv(env = process.env): Promise<SessionStore | undefined> {
  switch (env.SESSION_STORE ?? 'cookie') {
    case 'cookie':
      return undefined // the whole session sealed in the cookie
    case 'memory':
      return new MemoryStore() // one process only: development and tests
    case 'redis': {
      // Production settings are in docs/redis-in-production.md.
      const client = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
      })
      client.on('error', (error) => console.error(`redis: ${error.message}`))
      await client.connect()
      return new RedisStore({ client, prefix: 'myapp:' })
    }
    default:
      throw new Error(`SESSION_STORE=${env.SESSION_STORE} is not one of: cookie, memory, redis`)
  }
}

export function createApp(users: Map<string, User>, store: SessionStore | undefined) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    session: {
      store, // undefined: cookie sessions; a SessionStore: server-side sessions
      onStoreError: 'fail', // the default: 503 while the store is unreachable
    },
  })
  const login = expressLogin(manager)
  const app = express()
  app.use(login.middleware)

  // The handlers are the same for both kinds of session.
  app.post('/login/:id', async (req, res, next) => {
    try {
      const user = users.get(req.params.id) // (check a password here)
      if (user === undefined) {
        res.sendStatus(401)
        return
      }
      const auth = login.auth(req)
      await auth.loginUser(user, { remember: req.query.remember === '1' })
      auth.session.set('theme', 'dark') // session data: in the cookie, or in the store
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  app.get(
    '/me',
    login.loginRequired((req, res) => {
      res.json({ id: req.auth.user.id, theme: req.auth.session.get('theme') })
    }),
  )

  app.post('/logout', async (req, res, next) => {
    try {
      // Cookie sessions: the browser drops its cookie. Store sessions: the record is deleted too,
      // so a copy of the cookie stops working at once.
      await login.auth(req).logoutUser()
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  return app
}
