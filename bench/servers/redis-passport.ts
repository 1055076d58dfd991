// passport + express-session + connect-redis: the usual Express answer with sessions in Redis,
// set up as connect-redis's README says (node-redis client, `resave: false`,
// `saveUninitialized: false`), keys under $BENCH_REDIS_PREFIX.
import { RedisStore } from 'connect-redis'
import express from 'express'
import session from 'express-session'
import passport from 'passport'
import { createClient } from 'redis'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

interface BenchUser {
  id: string
}

const users = new Map<string, BenchUser>([['leafstorm', { id: 'leafstorm' }]])

passport.serializeUser((user, done) => {
  done(null, (user as BenchUser).id)
})
passport.deserializeUser((id: string, done) => {
  done(null, users.get(id) ?? false)
})

const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
await client.connect()

const app = express()
app.use(
  session({
    store: new RedisStore({ client, prefix: process.env.BENCH_REDIS_PREFIX ?? 'sess:' }),
    secret: benchSecret(),
    resave: false,
    saveUninitialized: false,
  }),
)
app.use(passport.initialize())
app.use(passport.session())

// LocalStrategy is not installed, and checking a password is not what is measured: log in directly.
app.post('/login', (req, res, next) => {
  req.login(users.get('leafstorm')!, (error) => {
    if (error) next(error)
    else res.send('ok')
  })
})

app.get('/protected', (req, res) => {
  if (!req.isAuthenticated()) {
    res.status(401).send('Unauthorized')
    return
  }
  res.send(loggedInAs((req.user as BenchUser).id))
})

const server = app.listen(PORT, HOST)
announce(server, async () => {
  await client.close()
})
