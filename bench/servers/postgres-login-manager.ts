// login-manager with server-side sessions in PostgreSQL: the basic example's setup
// (examples/basic/express.ts with SESSION_STORE=postgres, examples/shared/store.ts) around the
// protected route, `PostgresStore` on a pg pool, tables in $BENCH_PG_SCHEMA (created by the
// parent, bench/postgres.ts).
import express from 'express'
import { LoginManager } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { type PostgresQuery, type PostgresResult, PostgresStore } from 'login-manager/postgres'
import pg from 'pg'
import { loadUser, User } from '../../examples/basic/users.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  statement_timeout: 2000,
})
pool.on('error', (error: Error) => console.error(`postgres: ${error.message}`))
// Statements sent, for GET /__statements (bench/postgres.ts counts round trips with it).
let statements = 0
const counted = {
  query: (config: PostgresQuery) => {
    statements++
    return pool.query(config as pg.QueryConfig) as unknown as Promise<PostgresResult>
  },
  on: (event: 'error', listener: (error: Error) => void) => pool.on(event, listener),
}
const store = new PostgresStore({ pool: counted, schema: process.env.BENCH_PG_SCHEMA })
await store.checkSchema()

const manager = new LoginManager<User>({
  secret: benchSecret(),
  userLoader: loadUser,
  loginView: '/login',
  session: { store },
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

app.get('/__statements', (_req, res) => {
  res.send(String(statements))
})

const server = app.listen(PORT, HOST)
announce(server, async () => {
  await store.close()
  await pool.end()
})
