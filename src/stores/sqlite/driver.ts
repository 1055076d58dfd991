import { createRequire } from 'node:module'
import { LoginManagerError } from '../../shared/errors.ts'

/**
 * The part of a better-sqlite3 prepared statement that {@link SqliteStore} uses.
 *
 * @example
 * ```ts
 * const statement: SqliteStatementLike = db.prepare('SELECT 1')
 * ```
 */
export interface SqliteStatementLike {
  run(...params: unknown[]): { readonly changes: number }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  pluck(toggle?: boolean): this
}

/**
 * A transaction function of better-sqlite3 (`db.transaction(fn)`); {@link SqliteStore} runs
 * writes with its `immediate` form (`BEGIN IMMEDIATE`, or a savepoint inside the app's own
 * transaction).
 *
 * @example
 * ```ts
 * const insert: SqliteTransactionLike<[number], void> = db.transaction((n: number) => {})
 * insert.immediate(1)
 * ```
 */
export interface SqliteTransactionLike<A extends unknown[], R> {
  (...args: A): R
  immediate(...args: A): R
}

/**
 * The part of a better-sqlite3 (version 12) `Database` that {@link SqliteStore} uses, so that
 * login-manager's types need neither the package nor its type definitions.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * const db: SqliteDatabaseLike = new Database('app.db')
 * ```
 */
export interface SqliteDatabaseLike {
  prepare(source: string): SqliteStatementLike
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransactionLike<A, R>
  exec(source: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  close(): unknown
  /** Whether the connection is open. */
  readonly open: boolean
  /** The file's path, or `:memory:`. */
  readonly name: string
  readonly memory: boolean
}

interface DatabaseConstructor {
  new (path: string, options: { timeout: number }): SqliteDatabaseLike
}

/**
 * Opens `path` with better-sqlite3 (loaded here rather than imported: an app that passes its own
 * `Database` has loaded the package already, and one without it gets an error saying what to
 * install), in WAL mode: readers and one writer at a time, across the processes of the machine.
 * @throws LoginManagerError `ERR_INVALID_OPTION` when better-sqlite3 is missing, or the file
 * cannot be opened, written or read as an SQLite database.
 */
export function openDatabase(path: string, busyTimeout: number): SqliteDatabaseLike {
  let Database: DatabaseConstructor
  try {
    Database = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor
  } catch (error) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore needs the better-sqlite3 package, version 12: npm install better-sqlite3@12 (${describe(error)})`,
      { cause: error },
    )
  }
  let db: SqliteDatabaseLike
  try {
    db = new Database(path, { timeout: busyTimeout })
  } catch (error) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore could not open path ${JSON.stringify(path)}: ${describe(error)}. Point path at a file in a directory that exists and that this process may write.`,
      { cause: error },
    )
  }
  try {
    if (!db.memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (String(mode).toLowerCase() !== 'wal') {
        throw new Error(`the journal mode stayed ${String(mode)}, WAL is needed`)
      }
    }
    // Reads the header: a file that is not a database fails here, at start-up.
    db.prepare('SELECT count(*) FROM sqlite_schema').get()
  } catch (error) {
    try {
      db.close()
    } catch {
      // The error below says what is wrong.
    }
    const fix = isCorrupt(error)
      ? 'it is not a readable SQLite database: restore it from a backup, or move it away to start with no sessions'
      : 'check that the file and its directory may be written by this process'
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `SqliteStore could not open path ${JSON.stringify(path)} (${describe(error)}): ${fix}`,
      { cause: error },
    )
  }
  return db
}

/** The SQLite result code of a driver error (`SQLITE_BUSY`, `SQLITE_READONLY`, …), if it has one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined
}

/**
 * Whether another connection holds the lock the operation needs (`SQLITE_BUSY` and its extended
 * codes, after SQLite's own `busy_timeout`): worth trying again.
 */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error)
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/** Whether the file is not, or no longer, a readable SQLite database. */
export function isCorrupt(error: unknown): boolean {
  const code = sqliteCode(error)
  return code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT') === true
}

/** An error as one line: its SQLite code (if any) and message. */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = sqliteCode(error)
  return code === undefined ? message : `${code}: ${message}`
}

/**
 * Refuses anything but a better-sqlite3 `Database` (by its shape).
 * @throws LoginManagerError `ERR_INVALID_OPTION`
 */
export function checkDatabase(database: unknown): SqliteDatabaseLike {
  const d = database as Partial<Record<keyof SqliteDatabaseLike, unknown>> | null
  const ok =
    d !== null &&
    typeof d === 'object' &&
    typeof d.prepare === 'function' &&
    typeof d.transaction === 'function' &&
    typeof d.exec === 'function' &&
    typeof d.pragma === 'function'
  if (!ok) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      'SqliteStore database must be a better-sqlite3 Database (new Database(file) from better-sqlite3 version 12)',
    )
  }
  return database as SqliteDatabaseLike
}
