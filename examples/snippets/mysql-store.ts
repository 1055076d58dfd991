// MySqlStore on the app's mysql2 pool (MySQL 8 or MariaDB 10.6+): tables from your migrations,
// checked at start-up; store errors logged; pool and store closed at shutdown.
import { LoginManager, type UserMixin } from 'login-manager'
import { MySqlStore, StoreUnavailableError } from 'login-manager/mysql'
import mysql from 'mysql2/promise'

export async function createMySqlStore(env = process.env) {
  const url = env.MYSQL_URL // mysql://app:password@db.internal:3306/myapp, kept in a secret
  if (url === undefined) throw new Error('set MYSQL_URL')
  // The app's pool, shared with its own queries: utf8mb4 (the mysql2 default), a database in
  // the URL, and `ssl: { ca }` for TLS to a server with a private CA.
  const pool = mysql.createPool({ uri: url, connectionLimit: 10, connectTimeout: 2_000 })
  const store = new MySqlStore({
    pool,
    prefix: 'myapp_', // myapp_login_sessions, myapp_login_session_index
    commandTimeout: 500, // ms per store operation before the request gets its 503
  })
  // Before the server listens: throws ERR_STORE_SCHEMA naming a missing table, column or index.
  await store.checkSchema()
  return {
    store,
    close: async () => {
      await store.close() // stops the expiry sweep; the pool is yours to end
      await pool.end()
    },
  }
}

export function createManager<User extends UserMixin>(
  store: MySqlStore,
  userLoader: (id: string) => Promise<User | null>,
) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({ secret, userLoader, session: { store } })
  manager.on('storeError', ({ operation, error }) => {
    const reason = error instanceof StoreUnavailableError ? error.reason : 'error'
    console.error(`session store ${operation} failed (${reason}): ${String(error)}`)
  })
  return manager
}
