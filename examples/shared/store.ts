import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore, type SessionStore } from 'login-manager'
import { RedisStore } from 'login-manager/redis'

/**
 * What `SESSION_STORE` asks for: nothing (sealed cookies), `memory`, `redis` (`REDIS_URL`),
 * `postgres` (`DATABASE_URL`), `mysql` (`MYSQL_URL`) or `sqlite` (`SQLITE_PATH`).
 */
export interface ExampleStore {
  readonly store: SessionStore | undefined
  close(): Promise<void>
}

/**
 * The example's session store. With `SESSION_STORE=redis` several processes started with the same
 * `SESSION_SECRET` and `REDIS_URL` share logins (and logouts).
 */
export async function storeFromEnv(env = process.env): Promise<ExampleStore> {
  const kind = env.SESSION_STORE ?? 'cookie'
  if (kind === 'cookie' || kind === '') return { store: undefined, close: async () => {} }
  if (kind === 'memory') return { store: new MemoryStore(), close: async () => {} }
  if (kind === 'postgres') return postgresFromEnv(env)
  if (kind === 'mysql') return mysqlStore(env)
  if (kind === 'sqlite') return sqliteStore(env)
  if (kind !== 'redis') {
    throw new Error(
      `SESSION_STORE=${kind} is not one of: cookie, memory, redis, postgres, mysql, sqlite`,
    )
  }
  const { Redis } = await import('ioredis')
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  // Fail fast while Redis is down (requests get a 503) and reconnect in the background.
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
  return {
    store: new RedisStore({ client, prefix: env.REDIS_PREFIX ?? 'login-manager-example:' }),
    close: async () => {
      client.disconnect()
    },
  }
}

/**
 * `SESSION_STORE=sqlite`: sessions in the SQLite file `SQLITE_PATH` (a file in the OS temp
 * directory by default). Processes started with the same `SESSION_SECRET` and `SQLITE_PATH`
 * share logins, as with Redis, on one machine.
 */
async function sqliteStore(env: NodeJS.ProcessEnv): Promise<ExampleStore> {
  const { SqliteStore } = await import('login-manager/sqlite')
  const path = env.SQLITE_PATH || join(tmpdir(), 'login-manager-example-sessions.db')
  const store = new SqliteStore({ path })
  // A demo creates its tables itself. An app puts SqliteStore.migration() in its migrations and
  // calls store.checkSchema() here instead, so that nothing is created behind its back.
  await store.createSchema()
  console.log(`sessions in SQLite: ${path}`)
  return { store, close: () => store.close() }
}

/**
 * `SESSION_STORE=mysql`: MySqlStore on `MYSQL_URL` (MySQL 8 or MariaDB 10.6+), its tables named
 * with `MYSQL_PREFIX`. Being a demo, it creates its tables itself at start-up; a production app
 * runs `MySqlStore.migration()` in its migrations and calls `checkSchema()` instead.
 */
async function mysqlStore(env: NodeJS.ProcessEnv): Promise<ExampleStore> {
  const { MySqlStore } = await import('login-manager/mysql')
  const store = new MySqlStore({
    uri: env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    prefix: env.MYSQL_PREFIX ?? 'example_',
  })
  try {
    await store.createSchema()
  } catch (error) {
    await store.close()
    throw error
  }
  return { store, close: () => store.close() }
}

/**
 * `SESSION_STORE=postgres`: sessions in PostgreSQL at `DATABASE_URL` (tables in
 * `DATABASE_SCHEMA` when set). Several processes with the same `SESSION_SECRET` and database
 * share logins, as with Redis.
 */
async function postgresFromEnv(env: NodeJS.ProcessEnv): Promise<ExampleStore> {
  const { default: pg } = await import('pg')
  const { PostgresStore } = await import('login-manager/postgres')
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    statement_timeout: 2000, // the server stops a statement the store has given up on
  })
  pool.on('error', (error: Error) => console.error(`postgres: ${error.message}`))
  const store = new PostgresStore({ pool, schema: env.DATABASE_SCHEMA || undefined })
  // This is a demo, so it creates its tables itself. A production app runs the SQL of
  // PostgresStore.migration() with its migration tool, and calls store.checkSchema() here.
  await store.createSchema()
  return {
    store,
    close: async () => {
      await store.close()
      await pool.end()
    },
  }
}
