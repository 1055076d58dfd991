// Several instances of one app behind a load balancer: the same secrets and one Redis for all.
import express from 'express'
import { Cluster, Redis } from 'ioredis'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { RedisStore } from 'login-manager/redis'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    public sessionVersion = 1,
  ) {
    super()
  }
}

/** SESSION_SECRETS="newest,older": the same list, in the same order, on every instance. */
export function secretsFromEnv(env = process.env): string[] {
  const secrets = (env.SESSION_SECRETS ?? '').split(',').filter((s) => s !== '')
  if (secrets.length === 0) throw new Error('set SESSION_SECRETS (npx login-manager secret)')
  return secrets
}

/** One Redis client per instance, shared by all its requests. REDIS_CLUSTER=1 for a cluster. */
export function redisStoreFromEnv(env = process.env): RedisStore {
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const log = (error: Error) => console.error(`redis: ${error.message}`)
  if (env.REDIS_CLUSTER === '1') {
    const client = new Cluster([url], {
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 1 },
    })
    client.on('error', log)
    // Cluster mode is on by itself: writes whose keys lie in several hash slots go in steps.
    return new RedisStore({ client, prefix: 'myapp:' })
  }
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  client.on('error', log)
  return new RedisStore({ client, prefix: 'myapp:' })
}

export function createInstance(
  name: string,
  secrets: string[],
  store: SessionStore,
  users: Map<string, User>,
) {
  const manager = new LoginManager<User>({
    secret: secrets, // the first signs, every one verifies
    userLoader: (id) => users.get(id) ?? null, // read the version fresh: no per-instance cache
    sessionVersion: (user) => user.sessionVersion,
    session: { store },
  })
  const login = expressLogin(manager)
  const app = express()
  app.set('trust proxy', 1) // the load balancer in front; see docs/session-protection.md
  app.use(login.middleware)

  app.post('/login/:id', async (req, res, next) => {
    try {
      const user = users.get(req.params.id) // (check a password here)
      if (user === undefined) {
        res.sendStatus(401)
        return
      }
      await login.auth(req).loginUser(user, { remember: true })
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  app.get('/whoami', async (req, res, next) => {
    try {
      const user = await login.auth(req).getUser()
      res.json({ instance: name, user: user?.id ?? null })
    } catch (error) {
      next(error)
    }
  })

  // Every session and remember-me token of the user ends, whichever instance created it.
  app.post(
    '/logout-everywhere',
    login.loginRequired(async (req, res) => {
      const ended = await req.auth.logoutEverywhere()
      res.json({ ended })
    }),
  )

  return { app, manager }
}
