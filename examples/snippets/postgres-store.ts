// PostgresStore on the app's own pg pool, set up for production: a statement timeout on the
// server, an error listener, the schema checked at start-up, store failures logged.
import { LoginManager, type UserMixin } from 'login-manager'
import { PostgresStore, StoreUnavailableError } from 'login-manager/postgres'
import pg from 'pg'

export async function createPostgresStore(env = process.env) {
  const connectionString = env.DATABASE_URL // postgres://app:password@db.internal:5432/app
  if (connectionString === undefined) throw new Error('set DATABASE_URL')
  const pool = new pg.Pool({
    connectionString,
    max: 20, // shared with the rest of the app: size it for both
    connectionTimeoutMillis: 2_000,
    statement_timeout: 2_000, // ms: the server stops a statement the store has given up on
  })
  // Required: an idle connection that dies makes the pool emit 'error', which would crash Node.
  pool.on('error', (error) => console.error(`postgres: ${error.message}`))
  const store = new PostgresStore({
    pool,
    schema: 'auth', // optional: where the tables are (default: the search path)
    commandTimeout: 500, // ms per store operation before the request gets its 503
  })
  // Fails at start-up, with ERR_STORE_SCHEMA naming what is missing, if the migration has not run.
  await store.checkSchema()
  return {
    store,
    close: async () => {
      await store.close() // stops the background cleanup
      await pool.end()
    },
  }
}

/** The SQL for your migration tool (node-pg-migrate, Knex, Drizzle, Prisma, plain psql). */
export const loginSessionsMigration = PostgresStore.migration({ schema: 'auth' })

export function createManager<User extends UserMixin>(
  store: PostgresStore,
  userLoader: (id: string) => Promise<User | null>,
) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader,
    session: { store, onStoreError: 'fail' }, // 'fail' (503) is the default
  })
  manager.on('storeError', ({ operation, error }) => {
    const reason = error instanceof StoreUnavailableError ? error.reason : 'error'
    console.error(`session store ${operation} failed (${reason}): ${String(error)}`)
  })
  return manager
}
