/**
 * The options of `MySqlStore`, the shape of the mysql2 pool it takes, and their validation
 * (once, at construction, into a new object).
 *
 * @module
 */
import { LoginManagerError } from '../../shared/errors.ts'
import type { TableNames } from './schema.ts'

/** A statement parameter: `MySqlStore` sends strings and numbers only. */
export type MySqlParam = string | number

/**
 * The part of a mysql2 pool connection (`mysql2/promise`) that `MySqlStore` uses.
 *
 * @example
 * ```ts
 * const connection: MySqlConnectionLike = await pool.getConnection()
 * ```
 */
export interface MySqlConnectionLike {
  /** A prepared statement with its parameters (the server never sees values inside the SQL). */
  execute(sql: string, values?: MySqlParam[]): Promise<[unknown, unknown]>
  /** A statement without parameters (transaction control). */
  query(sql: string): Promise<[unknown, unknown]>
  /** Gives the connection back to the pool. */
  release(): void
  /** Closes the connection and takes it out of the pool. */
  destroy(): void
}

/**
 * The part of a mysql2 pool that `MySqlStore` uses: `getConnection()`, as `mysql2/promise`'s
 * `createPool()` returns it. Recognised by its shape; mysql2 is not imported for it.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise'
 * const pool: MySqlPoolLike = mysql.createPool(process.env.MYSQL_URL!)
 * ```
 */
export interface MySqlPoolLike {
  getConnection(): Promise<MySqlConnectionLike>
}

/**
 * A mysql2 callback pool (`createPool` from `mysql2`): `MySqlStore` uses its `.promise()`.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2'
 * const pool: MySqlCallbackPoolLike = mysql.createPool(process.env.MYSQL_URL!)
 * ```
 */
export interface MySqlCallbackPoolLike {
  promise(): MySqlPoolLike
}

/**
 * Table names of a store, before the {@link MySqlStoreOptions.prefix}.
 *
 * @example
 * ```ts
 * const tables: MySqlStoreTables = { records: 'sessions', index: 'session_index' }
 * ```
 */
export interface MySqlStoreTables {
  /** The records table (sessions and remember-me tokens). @default 'login_sessions' */
  readonly records?: string | undefined
  /** The per-user index table. @default 'login_session_index' */
  readonly index?: string | undefined
}

/**
 * Options of `MySqlStore`. Give it the app's pool (`pool`) or a URL (`uri`) from which it makes
 * and owns one; not both.
 *
 * @example
 * ```ts
 * const options: MySqlStoreOptions = { pool, prefix: 'myapp_', commandTimeout: 500 }
 * ```
 */
export interface MySqlStoreOptions {
  /**
   * The app's mysql2 pool (`createPool` from `mysql2/promise`, or a callback pool, whose
   * `.promise()` is used). The app owns it: the store never closes it. It must use utf8mb4 (the
   * mysql2 default) and have a current database.
   */
  readonly pool?: MySqlPoolLike | MySqlCallbackPoolLike | undefined
  /**
   * A URL such as `mysql://user:password@host:3306/mydb`, from which the store makes its own
   * pool (10 connections) and closes it in `close()`.
   */
  readonly uri?: string | undefined
  /** The table names, before `prefix`. */
  readonly tables?: MySqlStoreTables | undefined
  /**
   * Prepended to both table names, for several apps in one database: `'myapp_'` makes
   * `myapp_login_sessions` and `myapp_login_session_index`. Letters, digits and `_` only.
   * @default ''
   */
  readonly prefix?: string | undefined
  /**
   * Milliseconds an operation may take, retries included, before it rejects with a
   * `StoreUnavailableError` (reason `timeout`). Each statement is also bounded on the server, at
   * 80% of it, where the server offers a limit (MariaDB: `max_statement_time`, for every
   * statement; MySQL: `MAX_EXECUTION_TIME`, for reads only). `Infinity` waits forever.
   * @default 2000
   */
  readonly commandTimeout?: number | undefined
  /**
   * Seconds between background sweeps of expired rows; `0` starts none (call `cleanup()`
   * yourself then). The timer never keeps the process alive and stops on `close()`.
   * @default 60
   */
  readonly cleanupInterval?: number | undefined
  /** Rows deleted per sweep statement; a sweep repeats while statements come back full. @default 1000 */
  readonly cleanupBatch?: number | undefined
  /**
   * Called with the error of a failed background sweep. Without it, the first failure of an
   * outage is written to the console once, and the next success ends the outage.
   * @default undefined
   */
  readonly onError?: ((error: unknown) => void) | undefined
}

/** The options after validation. */
export interface ResolvedOptions {
  readonly pool: MySqlPoolLike | undefined
  readonly uri: string | undefined
  readonly names: TableNames
  readonly commandTimeout: number
  readonly cleanupInterval: number
  readonly cleanupBatch: number
  readonly onError: ((error: unknown) => void) | undefined
}

const IDENTIFIER = /^[A-Za-z0-9_]{1,64}$/
/** Longer than this, `setTimeout` fires at once: such a timeout means none. */
const MAX_TIMER = 2_147_483_647

/**
 * Validates the options of `MySqlStore`.
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION`
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid(
      `expected an options object, got ${options === null ? 'null' : typeof options}; create it with new MySqlStore({ pool })`,
    )
  }
  const o = options as MySqlStoreOptions & Record<string, unknown>
  if (typeof o.getConnection === 'function') {
    throw invalid(
      'got a pool where it takes options: write new MySqlStore({ pool }), not new MySqlStore(pool)',
    )
  }
  if ((o.pool === undefined) === (o.uri === undefined)) {
    throw invalid(
      o.pool === undefined
        ? 'give it the app\'s mysql2 pool ({ pool }) or a URL ({ uri: "mysql://user@host:3306/db" })'
        : 'give it either a pool or a uri, not both',
    )
  }
  if (o.uri !== undefined && (typeof o.uri !== 'string' || !/^mysql:\/\//.test(o.uri))) {
    throw invalid(
      `uri must be a mysql:// URL, got ${typeof o.uri === 'string' ? `'${o.uri}'` : typeof o.uri}`,
    )
  }
  const commandTimeout = o.commandTimeout ?? 2000
  if (typeof commandTimeout !== 'number' || Number.isNaN(commandTimeout) || commandTimeout <= 0) {
    throw invalid(
      `commandTimeout must be a positive number of milliseconds (or Infinity), got ${String(commandTimeout)}`,
    )
  }
  const cleanupInterval = o.cleanupInterval ?? 60
  if (
    typeof cleanupInterval !== 'number' ||
    !Number.isFinite(cleanupInterval) ||
    cleanupInterval < 0 ||
    cleanupInterval * 1000 > MAX_TIMER
  ) {
    throw invalid(
      `cleanupInterval must be a number of seconds, 0 (no background sweep) or more, got ${String(cleanupInterval)}`,
    )
  }
  const cleanupBatch = o.cleanupBatch ?? 1000
  if (!Number.isSafeInteger(cleanupBatch) || cleanupBatch < 1 || cleanupBatch > 1_000_000) {
    throw invalid(
      `cleanupBatch must be a whole number of rows from 1 to 1,000,000, got ${String(cleanupBatch)}`,
    )
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw invalid('onError must be a function')
  }
  return {
    pool: o.pool === undefined ? undefined : promisePool(o.pool),
    uri: o.uri,
    names: tableNames(o),
    commandTimeout: commandTimeout > MAX_TIMER ? Number.POSITIVE_INFINITY : commandTimeout,
    cleanupInterval,
    cleanupBatch,
    onError: o.onError,
  }
}

/**
 * The table names that `tables` and `prefix` give, validated.
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION`
 */
export function tableNames(options: {
  readonly tables?: MySqlStoreTables | undefined
  readonly prefix?: string | undefined
}): TableNames {
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string' || (prefix !== '' && !/^[A-Za-z0-9_]+$/.test(prefix))) {
    throw invalid(`prefix may hold letters, digits and _ only, got ${JSON.stringify(prefix)}`)
  }
  const tables = options.tables ?? {}
  if (typeof tables !== 'object' || tables === null) throw invalid('tables must be an object')
  const name = (given: unknown, fallback: string, what: string): string => {
    const base = given ?? fallback
    const full = `${prefix}${typeof base === 'string' ? base : ''}`
    if (typeof base !== 'string' || !IDENTIFIER.test(full)) {
      throw invalid(
        `the ${what} table name (prefix included) must be 1 to 64 letters, digits or _, got ${JSON.stringify(typeof base === 'string' ? full : base)}`,
      )
    }
    return full
  }
  const records = name(tables.records, 'login_sessions', 'records')
  const index = name(tables.index, 'login_session_index', 'index')
  if (records.toLowerCase() === index.toLowerCase()) {
    throw invalid(`the records and index tables need two names, got ${records} for both`)
  }
  return { records, index }
}

/** A promise pool: the given one, or the `.promise()` of a mysql2 callback pool. */
function promisePool(pool: unknown): MySqlPoolLike {
  if (pool !== null && typeof pool === 'object') {
    const p = pool as Record<string, unknown>
    // A callback pool has `promise()`; its getConnection takes a callback instead.
    if (typeof p.promise === 'function' && typeof p.getConnection === 'function') {
      return (p.promise as () => MySqlPoolLike).call(pool)
    }
    if (typeof p.getConnection === 'function') return pool as MySqlPoolLike
  }
  throw invalid(
    "pool must be a mysql2 pool: createPool() from 'mysql2/promise' (or a callback pool, whose .promise() is used)",
  )
}

function invalid(detail: string): LoginManagerError {
  return new LoginManagerError('ERR_INVALID_OPTION', `MySqlStore: ${detail}`)
}
