import type { StoreWrite } from '../../session/store.ts'
import { LoginManagerError } from '../../shared/errors.ts'
import type { PostgresSchemaOptions, SchemaNames } from './schema.ts'

// The options of PostgresStore and the pool shape it accepts, with the checks that turn a wrong
// option into ERR_INVALID_OPTION before any connection is made (and a wrong write or ttl into a RangeError).

/**
 * One statement as {@link PostgresStore} sends it: text, parameters, a prepared statement name,
 * and pg's client-side `query_timeout` (ms). A wrapper pool passes it on to `pg.Pool.query`.
 *
 * @example
 * ```ts
 * const counting: PostgresPoolLike = { query: (q: PostgresQuery) => (count++, pool.query(q)) }
 * ```
 */
export interface PostgresQuery {
  /** A prepared statement's name (derived from its text), unless `preparedStatements` is off. */
  readonly name?: string | undefined
  readonly text: string
  readonly values: unknown[]
  readonly query_timeout?: number | undefined
}

/**
 * What {@link PostgresStore} reads of a result: `rows` and `rowCount`, as `pg` returns them.
 *
 * @example
 * ```ts
 * const result: PostgresResult = await pool.query({ text: 'SELECT 1 AS n', values: [] })
 * ```
 */
export interface PostgresResult {
  readonly rows: Record<string, unknown>[]
  readonly rowCount: number | null
}

/**
 * The part of a `pg.Pool` that {@link PostgresStore} uses: `query(config)`, and `on('error')`
 * when there is one. Any object of this shape works (a wrapper that counts or times queries).
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * const pool: PostgresPoolLike = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * ```
 */
export interface PostgresPoolLike {
  query(config: PostgresQuery): Promise<PostgresResult>
  on?(event: 'error', listener: (error: Error) => void): unknown
  removeListener?(event: 'error', listener: (error: Error) => void): unknown
  listenerCount?(event: 'error'): number
}

/**
 * Options of {@link PostgresStore}: `pool` or `connectionString`, and where the tables are.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { pool, schema: 'auth', commandTimeout: 500 }
 * ```
 */
export interface PostgresStoreOptions extends PostgresSchemaOptions {
  /**
   * The app's `pg.Pool` (node-postgres 8). The store only sends statements through it; the app
   * owns it, configures it and ends it. Give this or `connectionString`, not both.
   */
  readonly pool?: PostgresPoolLike | undefined
  /**
   * A `postgres://` URL from which the store makes (and, in `close()`, ends) a pool of its own,
   * with `statement_timeout` set to `commandTimeout` on every connection.
   */
  readonly connectionString?: string | undefined
  /**
   * Milliseconds an operation may take, waiting for a connection included, before it rejects
   * with a {@link StoreUnavailableError} (reason `timeout`) instead of holding the request; also
   * pg's `query_timeout` of each statement (a timed-out connection is closed, not reused).
   * `Infinity` waits forever.
   * @default 2000
   */
  readonly commandTimeout?: number | undefined
  /**
   * Sends each statement as a named prepared statement, so PostgreSQL parses and plans it once
   * per connection instead of on every request (the protected request's look-up takes about a
   * third of the time). Turn it off behind a pooler that cannot keep prepared statements (PgBouncer
   * in transaction mode before 1.21).
   * @default true
   */
  readonly preparedStatements?: boolean | undefined
  /**
   * Seconds between background sweeps of expired records and index entries; `0` disables them
   * (call {@link PostgresStore.cleanup} yourself, from a cron job for instance). The timer does
   * not keep the process alive.
   * @default 60
   */
  readonly cleanupInterval?: number | undefined
  /**
   * Rows deleted per cleanup statement, so that no sweep holds many locks or runs long.
   * @default 1000
   */
  readonly cleanupBatch?: number | undefined
  /**
   * Called with failures that belong to no request: a background sweep that failed, and the
   * pool's `error` events (an idle connection lost). Without it, the first failure of an outage
   * is logged once with `console.warn`; pool errors are then left to the app's own `error`
   * listener when it has one.
   * @default undefined
   */
  readonly onError?: ((error: Error, source: 'cleanup' | 'pool') => void) | undefined
}

/** The settings {@link PostgresStore} runs with, once its options have been checked. */
export interface PostgresSettings {
  readonly timeout: number
  readonly interval: number
  readonly batch: number
  readonly prepared: boolean
}

/** Checks the timing, batching and hook options, applying their defaults. */
export function checkSettings(options: PostgresStoreOptions): PostgresSettings {
  const timeout = options.commandTimeout ?? 2000
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout <= 0) {
    throw invalid(
      `commandTimeout must be a positive number of milliseconds (or Infinity), got ${String(timeout)}`,
    )
  }
  const interval = options.cleanupInterval ?? 60
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw invalid(
      `cleanupInterval must be a number of seconds ≥ 0 (0: no background sweep), got ${String(interval)}`,
    )
  }
  const batch = options.cleanupBatch ?? 1000
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw invalid(`cleanupBatch must be a positive integer, got ${String(batch)}`)
  }
  const prepared = options.preparedStatements ?? true
  if (typeof prepared !== 'boolean') throw invalid('preparedStatements must be a boolean')
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw invalid('onError must be a function')
  }
  return { timeout, interval, batch, prepared }
}

function invalid(message: string): LoginManagerError {
  return new LoginManagerError('ERR_INVALID_OPTION', `PostgresStore ${message}`)
}

/** Refuses anything but an options object with exactly one of `pool` and `connectionString`. */
export function checkOptionsShape(options: unknown): asserts options is PostgresStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid(
      `expects an options object, got ${options === null ? 'null' : typeof options}; create it with new PostgresStore({ pool }) or new PostgresStore({ connectionString })`,
    )
  }
  const o = options as Record<string, unknown>
  if (typeof o.query === 'function') {
    throw invalid(
      'got a pool where it takes options: write new PostgresStore({ pool }), not new PostgresStore(pool)',
    )
  }
  if ((o.pool === undefined) === (o.connectionString === undefined)) {
    throw invalid(
      o.pool === undefined
        ? 'needs a pool (your pg.Pool) or a connectionString'
        : 'takes a pool or a connectionString, not both',
    )
  }
  if (o.pool !== undefined && typeof (o.pool as { query?: unknown }).query !== 'function') {
    throw invalid('pool must be a pg.Pool (an object with a query method)')
  }
  if (o.connectionString !== undefined && typeof o.connectionString !== 'string') {
    throw invalid('connectionString must be a string such as postgres://user@host:5432/db')
  }
}

/** The options argument that selects these names, for the messages that say what to run. */
export function namesArgument(n: SchemaNames): string {
  const parts: string[] = []
  if (n.schema !== undefined) parts.push(`schema: '${n.schema}'`)
  if (n.recordsName !== 'login_sessions' || n.indexName !== 'login_session_index') {
    parts.push(`tables: { records: '${n.recordsName}', index: '${n.indexName}' }`)
  }
  return parts.length === 0 ? '' : `{ ${parts.join(', ')} }`
}

export function wholeSeconds(ttl: number, operation: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new RangeError(`PostgresStore.${operation}: ttl must be a finite number of seconds`)
  }
  return Math.max(1, Math.ceil(ttl))
}

/** Refuses a write that no store could run; returns its ttl in whole seconds. */
export function checkWrite(write: StoreWrite): number {
  const ttl = wholeSeconds(write.ttl, 'write')
  if (write.mode !== 'create' && write.mode !== 'update') {
    throw new RangeError(`PostgresStore.write: mode must be 'create' or 'update'`)
  }
  if (write.mode === 'create' && Object.keys(write.set).length === 0) {
    throw new RangeError('PostgresStore.write: a created record needs at least one field')
  }
  if (write.mode === 'create' && write.expect !== undefined) {
    throw new RangeError('PostgresStore.write: `expect` applies to updates only')
  }
  return ttl
}
