import { LoginManagerError } from '../../shared/errors.ts'
import { checkDatabase, type SqliteDatabaseLike } from './driver.ts'
import { type SqliteTableOptions, type TableNames, tableNames } from './schema.ts'

/**
 * Options of {@link SqliteStore}: the database (`database` or `path`, exactly one), where the
 * tables are, and how long to wait.
 *
 * @example
 * ```ts
 * const options: SqliteStoreOptions = { path: '/var/lib/myapp/sessions.db', prefix: 'myapp_' }
 * ```
 */
export interface SqliteStoreOptions extends SqliteTableOptions {
  /**
   * The app's own better-sqlite3 (version 12) `Database`. The store prepares its statements on
   * it and never changes its settings nor closes it: open it in WAL mode
   * (`db.pragma('journal_mode = WAL')`) when several processes share the file, and with a
   * `timeout` (better-sqlite3's default is 5 s) no longer than `commandTimeout`.
   */
  readonly database?: SqliteDatabaseLike | undefined
  /**
   * A database file the store opens itself, in WAL mode with `busyTimeout`, and closes in
   * {@link SqliteStore.close}. Its directory must exist. `':memory:'` gives a private in-memory
   * database (tests).
   */
  readonly path?: string | undefined
  /**
   * Milliseconds an operation may wait, in all, for another connection's lock before it rejects
   * with a {@link StoreUnavailableError} (reason `timeout`). SQLite runs in this thread, so it
   * bounds lock waits only: one statement is never interrupted. With `Infinity`, an operation gives up
   * after 100 attempts.
   * @default 2000
   */
  readonly commandTimeout?: number | undefined
  /**
   * Milliseconds one attempt blocks the thread waiting for another connection's write lock
   * (SQLite's `busy_timeout`) before the store steps back, lets other requests run, and tries
   * again, until `commandTimeout`. Only for a database the store opens (`path`); a `database`
   * keeps its own `timeout`.
   * @default 50
   */
  readonly busyTimeout?: number | undefined
  /**
   * Seconds between background sweeps of expired rows; `0` disables them (call
   * {@link SqliteStore.cleanup} yourself). The timer does not keep the process alive.
   * @default 60
   */
  readonly cleanupInterval?: number | undefined
  /**
   * Rows per cleanup transaction: a sweep deletes expired rows in transactions of at most this
   * many records, along the `expires_at` index, and lets other work run between them.
   * @default 1000
   */
  readonly cleanupBatch?: number | undefined
  /**
   * Called with each failure of a background cleanup (a {@link StoreUnavailableError}). Without
   * it, one warning per outage goes to `console.warn`.
   * @default undefined
   */
  readonly onError?: ((error: unknown) => void) | undefined
  /**
   * The clock, in milliseconds since the epoch (tests pass a fake one to travel in time). Every
   * process sharing a file runs on the same machine, so on the same clock.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined
}

/** {@link SqliteStoreOptions} checked, with their defaults. */
export interface ResolvedOptions {
  readonly names: TableNames
  /** The app's own database, or `undefined` with `path`. */
  readonly database: SqliteDatabaseLike | undefined
  readonly path: string
  readonly commandTimeout: number
  readonly busyTimeout: number
  /** Milliseconds between sweeps; 0: none. */
  readonly cleanupInterval: number
  readonly cleanupBatch: number
  readonly now: () => number
  readonly onError: ((error: unknown) => void) | undefined
}

/**
 * Checks every option once, at construction, without touching the caller's object.
 * @throws LoginManagerError `ERR_INVALID_OPTION` naming the option and what to write instead.
 */
export function resolveOptions(options: SqliteStoreOptions): ResolvedOptions {
  checkOptionsShape(options)
  const names = tableNames(options, 'SqliteStore')
  const commandTimeout = positive(options.commandTimeout, 2000, 'commandTimeout', true)
  const busyTimeout = positive(options.busyTimeout, 50, 'busyTimeout', false)
  const interval = options.cleanupInterval ?? 60
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore cleanupInterval must be a number of seconds (0 disables the sweeps), got ${String(interval)}`,
    )
  }
  const cleanupBatch = options.cleanupBatch ?? 1000
  if (!Number.isSafeInteger(cleanupBatch) || cleanupBatch < 1) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore cleanupBatch must be a positive integer, got ${String(cleanupBatch)}`,
    )
  }
  const now = options.now ?? Date.now
  if (typeof now !== 'function') {
    throw new LoginManagerError('ERR_INVALID_OPTION', 'SqliteStore now must be a function')
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new LoginManagerError('ERR_INVALID_OPTION', 'SqliteStore onError must be a function')
  }
  const database = options.database === undefined ? undefined : checkDatabase(options.database)
  return {
    names,
    database,
    path: options.path ?? '',
    commandTimeout,
    // Within what setTimeout and SQLite's busy handler take (2^31 - 1 ms).
    busyTimeout: Math.min(Math.ceil(busyTimeout), 2_147_483_647),
    cleanupInterval: Math.min(interval * 1000, 2_147_483_647),
    cleanupBatch,
    now,
    onError: options.onError,
  }
}

/** Refuses anything but an options object with exactly one of `database` and `path`. */
function checkOptionsShape(options: unknown): void {
  if (typeof options !== 'object' || options === null) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore: expected an options object, got ${options === null ? 'null' : typeof options}; create it with new SqliteStore({ path }) or new SqliteStore({ database })`,
    )
  }
  const o = options as Record<string, unknown>
  if (typeof o.prepare === 'function') {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      'SqliteStore: got a Database where it takes options: write new SqliteStore({ database }), not new SqliteStore(database)',
    )
  }
  const hasDatabase = o.database !== undefined
  const hasPath = o.path !== undefined
  if (hasDatabase === hasPath) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore needs exactly one of database (your better-sqlite3 Database) and path (a file the store opens), got ${hasDatabase ? 'both' : 'neither'}`,
    )
  }
  if (hasPath && (typeof o.path !== 'string' || o.path.trim() === '')) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore path must be a file name (or ':memory:'), got ${JSON.stringify(o.path)}`,
    )
  }
}

function positive(value: unknown, fallback: number, name: string, infinite: boolean): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (!infinite && !Number.isFinite(v))) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore ${name} must be a positive number of milliseconds${infinite ? ' (or Infinity)' : ''}, got ${String(v)}`,
    )
  }
  return v
}
