// login-manager with server-side sessions in Redis: the basic example's setup
// (examples/basic/express.ts with SESSION_STORE=redis, examples/shared/store.ts) around the
// protected route, `RedisStore` over an ioredis client, keys under $BENCH_REDIS_PREFIX.
import express from 'express'
import { Redis } from 'ioredis'
import { LoginManager } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { RedisStore } from 'login-manager/redis'
import { loadUser, User } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  // As examples/shared/store.ts: fail fast while Redis is down (requests get a 503).
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  lazyConnect: true,
})
client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
await client.connect()

const manager = new LoginManager<User>({
  secret: benchSecret(),
  userLoader: loadUser,
  loginView: '/login',
  session: { store: new RedisStore({ client, prefix: process.env.BENCH_REDIS_PREFIX ?? '' }) },
})
const login = expressLogin(manager)

const app = express()
app.use(login.middleware)

// Checking a password is not what is measured: log in directly.
app.post('/login', async (req, res, next) => {
  try {
    await login.auth(req).loginUser(new User('leafstorm'))
    res.send('ok')
  } catch (error) {
    next(error)
  }
})

app.get(
  '/protected',
  login.loginRequired((req, res) => {
    res.send(loggedInAs(req.auth.user.id))
  }),
)

const server = app.listen(PORT, HOST)
announce(server, async () => {
  await client.quit()
})
