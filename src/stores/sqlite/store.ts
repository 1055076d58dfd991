import type { SessionStore, StoreWrite } from '../../session/store.ts'
import { StoreUnavailableError } from '../unavailable.ts'
import { describe, isCorrupt, openDatabase, type SqliteDatabaseLike } from './driver.ts'
import { type ResolvedOptions, resolveOptions, type SqliteStoreOptions } from './options.ts'
import { Runner } from './runner.ts'
import {
  migrationSql,
  type SqliteTableOptions,
  schemaError,
  schemaProblems,
  type TableNames,
  tableNames,
} from './schema.ts'
import { Operations } from './sql.ts'

/**
 * A {@link SessionStore} in an SQLite database file, through better-sqlite3 (version 12): an
 * embedded, durable store for one machine. Several processes of that machine may share the file
 * (WAL mode). Import it from `login-manager/sqlite`.
 *
 * - Records are rows of `key`, `fields` (a JSON object) and `expires_at` (milliseconds since
 *   the epoch); indexes are rows of `index_key`, `member_key` and `expires_at`. See
 *   {@link SqliteStore.migration} for the SQL.
 * - Every operation is one transaction (writes `BEGIN IMMEDIATE`, so they take the write lock
 *   before reading what they check): conditions (mode, `expect`, `requires`), field updates
 *   (in SQL, with `json_patch`: two requests writing different fields both persist), expiry,
 *   index and the replaced record happen together or not at all.
 * - A read is one primary-key `SELECT` that checks expiry; expired rows are deleted by a
 *   background sweep in bounded batches along the `expires_at` index.
 * - Time is JavaScript's clock (`now`), in milliseconds; TTLs are whole seconds, at least 1.
 * - better-sqlite3 is synchronous: an operation runs to completion in this thread and its
 *   promise is settled already. When another connection holds the write lock past
 *   `busyTimeout`, the store retries (at most 100 attempts) without blocking, and rejects with a
 *   {@link StoreUnavailableError} after `commandTimeout`. Every driver or database error (a
 *   read-only or full disk, a corrupt file, a missing table) rejects with one too.
 *
 * The schema is created explicitly: {@link SqliteStore.createSchema} (or the SQL of
 * {@link SqliteStore.migration} in your own migrations), and checked at start-up with
 * {@link SqliteStore.checkSchema}.
 *
 * @example
 * ```ts
 * import { SqliteStore } from 'login-manager/sqlite'
 *
 * const store = new SqliteStore({ path: '/var/lib/myapp/sessions.db' })
 * await store.checkSchema() // or, in a demo: await store.createSchema()
 * const manager = new LoginManager({ secret, userLoader, session: { store } })
 * ```
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` from the constructor when it is given the
 * database itself instead of `{ database }`, both or neither of `database` and `path`, a bad
 * table name or prefix, a timeout or batch that is not a positive number, when better-sqlite3 is
 * missing, or when `path` cannot be opened as an SQLite database (a missing directory, a file
 * that is not a database). Every operation rejects with {@link StoreUnavailableError} when the
 * database fails, and with a `RangeError` for an invalid argument (a non-finite ttl, an unknown
 * mode, a create without fields or with `expect`).
 */
export class SqliteStore implements SessionStore {
  readonly #db: SqliteDatabaseLike
  readonly #owned: boolean
  readonly #names: TableNames
  readonly #o: ResolvedOptions
  readonly #runner: Runner
  #ops: Operations | undefined
  #closed = false
  #timer: ReturnType<typeof setInterval> | undefined
  #sweeping: Promise<number> | undefined
  #warned = false

  constructor(options: SqliteStoreOptions) {
    const o = resolveOptions(options)
    this.#o = o
    this.#names = o.names
    this.#runner = new Runner(o.commandTimeout)
    this.#owned = o.database === undefined
    this.#db = o.database ?? openDatabase(o.path, o.busyTimeout)
    if (o.cleanupInterval > 0) {
      this.#timer = setInterval(() => this.#background(), o.cleanupInterval)
      this.#timer.unref?.()
    }
  }

  /**
   * The SQL of the store's tables and indexes, for your own migration tool: idempotent
   * (`CREATE … IF NOT EXISTS`), with the table names of these options.
   *
   * @example
   * ```ts
   * fs.writeFileSync('migrations/001_sessions.sql', SqliteStore.migration({ prefix: 'myapp_' }))
   * ```
   *
   * @throws {LoginManagerError} `ERR_INVALID_OPTION` for a bad table name or prefix.
   */
  static migration(options: SqliteTableOptions = {}): string {
    return migrationSql(tableNames(options, 'SqliteStore.migration'))
  }

  /**
   * The two table names in use, prefix included.
   *
   * @example
   * ```ts
   * new SqliteStore({ path, prefix: 'shop_' }).tables // { records: 'shop_login_sessions', index: 'shop_login_session_index' }
   * ```
   *
   * @throws Never.
   */
  get tables(): { readonly records: string; readonly index: string } {
    return { ...this.#names }
  }

  /**
   * Creates the tables and indexes if they do not exist, in one transaction (the SQL of
   * {@link SqliteStore.migration}). Meant for demos, tests and apps without migrations; several
   * processes may call it at once.
   *
   * @example
   * ```ts
   * await store.createSchema()
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails (read-only, locked past
   * `commandTimeout`).
   */
  createSchema(): Promise<void> {
    const sql = migrationSql(this.#names)
    const create = this.#db.transaction(() => {
      this.#db.exec(sql)
    }).immediate
    return this.#runner.run('createSchema', true, () => create())
  }

  /**
   * Checks, without changing anything, that the tables, their columns, primary keys and indexes
   * are there; call it at start-up, before serving.
   *
   * @example
   * ```ts
   * await store.checkSchema() // throws naming what is missing
   * ```
   *
   * @throws {LoginManagerError} `ERR_STORE_SCHEMA` naming each missing or wrong table, column,
   * primary key or index, or saying that the file is not a readable SQLite database.
   * @throws {StoreUnavailableError} when the database cannot be read for another reason.
   */
  async checkSchema(): Promise<void> {
    const where = this.#db.memory ? 'the in-memory database' : JSON.stringify(this.#db.name)
    let problems: string[]
    try {
      problems = await this.#runner.run('checkSchema', false, () =>
        schemaProblems(this.#db, this.#names),
      )
    } catch (error) {
      if (error instanceof StoreUnavailableError && isCorrupt(error.cause)) {
        throw schemaError(where, [
          `the file is not a readable SQLite database (${describe(error.cause)})`,
        ])
      }
      throw error
    }
    if (problems.length > 0) throw schemaError(where, problems)
  }

  /**
   * Every field of a record, or `null` when it does not exist or has expired: one primary-key
   * `SELECT`.
   *
   * @example
   * ```ts
   * const fields = await store.get('lm:{u1}:s:…')
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails.
   */
  get(key: string): Promise<Record<string, string> | null> {
    return this.#runner.run('get', false, () => {
      const json = this.#operations().get(key, this.#clock())
      return json === undefined ? null : parseFields(json)
    })
  }

  /**
   * A conditional write in one `BEGIN IMMEDIATE` transaction: `create` only when the key is
   * absent (or expired), `update` only when it exists, and only when the fields in `expect` hold
   * those values and the key in `requires` exists; then the fields set and removed (a JSON merge
   * patch in SQL), the expiry, the index, and the replaced record deleted with its index rows.
   * Returns whether the write happened; when it did not, nothing changed. An update that removes
   * every field deletes the record.
   *
   * @example
   * ```ts
   * await store.write(newKey, { mode: 'create', set: { u: '42' }, ttl: 3600, index, replaces: oldKey, replacesIndex: index, requires: oldKey })
   * await store.write(tokenKey, { mode: 'update', set: { h: next }, ttl: 3600, expect: { h: read } })
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or stays locked past `commandTimeout`.
   * @throws {RangeError} for a non-finite ttl, an unknown mode, a create without fields or a
   * create with `expect`.
   */
  async write(key: string, write: StoreWrite): Promise<boolean> {
    const ttl = wholeSeconds(write.ttl, 'write')
    if (write.mode !== 'create' && write.mode !== 'update') {
      throw new RangeError(`SqliteStore.write: mode must be 'create' or 'update'`)
    }
    if (write.mode === 'create' && Object.keys(write.set).length === 0) {
      throw new RangeError('SqliteStore.write: a created record needs at least one field')
    }
    if (write.mode === 'create' && write.expect !== undefined) {
      throw new RangeError('SqliteStore.write: `expect` applies to updates only')
    }
    return this.#runner.run('write', true, () =>
      this.#operations().write(key, write, ttl, this.#clock()),
    )
  }

  /**
   * Extends an existing record's expiry to `ttl` seconds from now and sets `fields` on it, in one
   * transaction; returns `false` (and writes nothing) when the record does not exist.
   *
   * @example
   * ```ts
   * await store.touch(key, 1800, { t: String(now) })
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or stays locked past `commandTimeout`.
   * @throws {RangeError} for a non-finite ttl.
   */
  async touch(
    key: string,
    ttl: number,
    fields?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const seconds = wholeSeconds(ttl, 'touch')
    return this.#runner.run('touch', true, () =>
      this.#operations().touch(key, fields, seconds, this.#clock()),
    )
  }

  /**
   * Deletes a record and removes it from every index it is in (`index` among them); deleting a
   * missing key is not an error.
   *
   * @example
   * ```ts
   * await store.destroy(key, index)
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or stays locked past `commandTimeout`.
   */
  destroy(key: string, _index?: string): Promise<void> {
    return this.#runner.run('destroy', true, () => this.#operations().destroy(key))
  }

  /**
   * The keys listed in an index whose records still exist: one `SELECT` joining the index's rows
   * (a primary-key range) to their records.
   *
   * @example
   * ```ts
   * const sessions = await store.members('lm:{u1}:idx')
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails.
   */
  members(index: string): Promise<string[]> {
    return this.#runner.run('members', false, () =>
      this.#operations().members(index, this.#clock()),
    )
  }

  /**
   * Deletes every record listed in an index except those in `keep`, removes them from every
   * index, and returns how many living records it deleted; one transaction that touches only
   * that index's rows and their records.
   *
   * @example
   * ```ts
   * const loggedOut = await store.destroyIndex(index, [currentKey])
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or stays locked past `commandTimeout`.
   */
  destroyIndex(index: string, keep: readonly string[] = []): Promise<number> {
    return this.#runner.run('destroyIndex', true, () =>
      this.#operations().destroyIndex(index, keep, this.#clock()),
    )
  }

  /**
   * Deletes every expired record and index row now, in transactions of at most `cleanupBatch`
   * records each, and returns how many records it deleted. The background sweep calls it every
   * `cleanupInterval` seconds; call it yourself when that is `0`.
   *
   * @example
   * ```ts
   * setInterval(() => store.cleanup().catch(log.warn), 600_000).unref()
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or stays locked past `commandTimeout`.
   */
  cleanup(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined
    })
    return this.#sweeping
  }

  /**
   * Stops the background sweep and, when the store opened the database itself (`path`), closes
   * it. Operations still waiting for a lock, and any called later, reject with a
   * {@link StoreUnavailableError}. A `database` you passed stays open. Idempotent.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await store.close(); process.exit(0) })
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#runner.close()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#sweeping?.catch(() => {})
    if (this.#owned && this.#db.open) {
      try {
        this.#db.close()
      } catch {
        // Closing can only fail on a connection already unusable; there is nothing to keep.
      }
    }
  }

  #clock(): number {
    return Math.floor(this.#o.now())
  }

  /** The prepared statements, made on first use (the tables may be created after the store). */
  #operations(): Operations {
    this.#ops ??= new Operations(this.#db, this.#names)
    return this.#ops
  }

  async #sweep(): Promise<number> {
    let deleted = 0
    for (;;) {
      const { records, entries } = await this.#runner.run('cleanup', true, () =>
        this.#operations().sweep(this.#clock(), this.#o.cleanupBatch),
      )
      deleted += records
      if (records < this.#o.cleanupBatch && entries < this.#o.cleanupBatch) return deleted
      // Between batches, requests run.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  #background(): void {
    if (this.#closed || this.#sweeping !== undefined) return
    this.cleanup().then(
      () => {
        this.#warned = false
      },
      (error: unknown) => {
        if (this.#closed) return
        if (this.#o.onError !== undefined) {
          try {
            this.#o.onError(error)
          } catch {
            // A throwing hook must not become an unhandled rejection.
          }
        } else if (!this.#warned) {
          this.#warned = true
          const message = error instanceof Error ? error.message : String(error)
          console.warn(
            `login-manager: SqliteStore cleanup failed, retrying in the background: ${message}`,
          )
        }
      },
    )
  }
}

/** A record's fields as login-manager wrote them: a null-prototype object of strings. */
function parseFields(json: string): Record<string, string> {
  const parsed = JSON.parse(json) as Record<string, unknown>
  const fields: Record<string, string> = Object.create(null)
  for (const field of Object.keys(parsed)) {
    const value = parsed[field]
    fields[field] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  return fields
}

function wholeSeconds(ttl: number, operation: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new RangeError(`SqliteStore.${operation}: ttl must be a finite number of seconds`)
  }
  return Math.max(1, Math.ceil(ttl))
}
