// passport + express-session + connect-pg-simple: the usual Express answer with sessions in
// PostgreSQL, set up as connect-pg-simple's README says (a pg pool, `resave: false`,
// `saveUninitialized: false`), its `session` table in $BENCH_PG_SCHEMA (created by the parent
// from the package's table.sql).
import connectPgSimple from 'connect-pg-simple'
import express from 'express'
import session from 'express-session'
import passport from 'passport'
import pg from 'pg'
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

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
})
pool.on('error', (error: Error) => console.error(`postgres: ${error.message}`))
// Statements sent, for GET /__statements (bench/postgres.ts counts round trips with it): the
// bench's own pool object, wrapped before connect-pg-simple gets it.
let statements = 0
const query = pool.query.bind(pool) as (...args: unknown[]) => unknown
;(pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
  statements++
  return query(...args)
}
const PgSession = connectPgSimple(session)

const app = express()
app.use(
  session({
    store: new PgSession({ pool, schemaName: process.env.BENCH_PG_SCHEMA }),
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

app.get('/__statements', (_req, res) => {
  res.send(String(statements))
})

const server = app.listen(PORT, HOST)
announce(server, async () => {
  await pool.end()
})
