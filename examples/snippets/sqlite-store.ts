// SqliteStore on one machine: the app's own better-sqlite3 Database in WAL mode (every process
// of the machine may open the same file), the tables from the app's migrations, checked at start.
import Database from 'better-sqlite3'
import { LoginManager, type UserMixin } from 'login-manager'
import { SqliteStore } from 'login-manager/sqlite'

/** A step of your migration tool: the store's tables, with the names the store looks for. */
export function migrate(db: Database.Database): void {
  db.exec(SqliteStore.migration({ prefix: 'myapp_' }))
}

export async function createSqliteStore(path = process.env.SQLITE_PATH ?? 'data/app.db') {
  const db = new Database(path, { timeout: 1_000 }) // ms a write may wait for another process
  db.pragma('journal_mode = WAL') // readers never wait; one writer at a time, across processes
  const store = new SqliteStore({
    database: db, // yours: the store neither changes its settings nor closes it
    prefix: 'myapp_', // the same prefix as the migration
    commandTimeout: 2_000, // ms before a request gets its 503 while another process holds the lock
  })
  await store.checkSchema() // ERR_STORE_SCHEMA, naming what is missing, if the migration did not run
  return {
    store,
    async close() {
      await store.close() // stops the background cleanup
      db.close()
    },
  }
}

export function createManager<User extends UserMixin>(
  store: SqliteStore,
  userLoader: (id: string) => User | null,
) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  return new LoginManager<User>({ secret, userLoader, session: { store } })
}
