import type pg from 'pg'
import type { SessionStore, StoreWrite } from '../../session/store.ts'
import { LoginManagerError } from '../../shared/errors.ts'
import { Deadlines } from '../unavailable.ts'
import { BackgroundFailures, sweepExpired } from './cleanup.ts'
import { codeOf, runOperation } from './failures.ts'
import {
  checkOptionsShape,
  checkSettings,
  checkWrite,
  namesArgument,
  type PostgresPoolLike,
  type PostgresQuery,
  type PostgresResult,
  type PostgresStoreOptions,
  wholeSeconds,
} from './options.ts'
import { listenToPool, ownPool, queryConfig, unlistenToPool } from './pool.ts'
import {
  migrationSql,
  type PostgresSchemaOptions,
  type SchemaNames,
  schemaNames,
  schemaProblems,
} from './schema.ts'
import {
  decodeFields,
  destroyIndexStatement,
  destroyStatement,
  encodeFields,
  encodeText,
  getStatement,
  membersStatement,
  type Statement,
  touchStatement,
  writeStatement,
} from './sql.ts'

/**
 * A {@link SessionStore} in PostgreSQL (12 or later), through the app's `pg` pool or one of its
 * own. Import it from `login-manager/postgres`. Same guarantees as `RedisStore`:
 *
 * - **Every operation is one SQL statement** (autocommit, READ COMMITTED, or whatever the
 *   connection's default is): conditional writes (`create` only when absent, `update` only when
 *   alive, `expect` as `fields @> …`, `requires` as a locked look-up of the other row), the
 *   replaced record, the index and the fields all commit together or not at all. Fields are
 *   merged in SQL (`jsonb ||`, `-`), never read and rewritten by JavaScript.
 * - **Expiry** is the database's clock: every read filters `expires_at > now()`; a background
 *   sweep (`cleanupInterval`) deletes expired rows in batches through the `expires_at` index.
 * - **A protected request costs one primary-key `SELECT`**, and nothing else until the session
 *   changes or its touch interval passes.
 * - **Failures** reject with a {@link StoreUnavailableError}: a lost connection, an unreachable
 *   server, a statement over `commandTimeout` (or over the server's `statement_timeout`), and a
 *   serialization failure or deadlock still failing after 3 attempts.
 *
 * Create the tables with your migration tool (the SQL of {@link PostgresStore.migration}) or
 * {@link PostgresStore.createSchema}, and call {@link PostgresStore.checkSchema} at start-up.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { PostgresStore } from 'login-manager/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, statement_timeout: 2000 })
 * pool.on('error', (err) => log.warn({ err }, 'postgres'))
 * const store = new PostgresStore({ pool })
 * await store.checkSchema() // throws ERR_STORE_SCHEMA naming what is missing
 * ```
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` from the constructor for a pool given instead
 * of `{ pool }`, neither or both of `pool` and `connectionString`, a table, schema or prefix that
 * is not a plain identifier, or a timeout, interval or batch that is not a positive number.
 * Every method rejects with {@link StoreUnavailableError} when PostgreSQL fails or is too slow,
 * and with a `RangeError` for an invalid argument (a non-finite ttl, an unknown mode, a create
 * without fields or with `expect`).
 */
export class PostgresStore implements SessionStore {
  readonly #pool: PostgresPoolLike
  readonly #ownPool: pg.Pool | undefined
  readonly #names: SchemaNames
  readonly #timeout: number
  readonly #deadlines: Deadlines | undefined
  readonly #batch: number
  readonly #prepared: boolean
  readonly #failures: BackgroundFailures
  readonly #poolListener = (error: Error): void => this.#failures.report(error, 'pool')
  #timer: ReturnType<typeof setInterval> | undefined
  #sweeping: Promise<number> | undefined

  constructor(options: PostgresStoreOptions) {
    checkOptionsShape(options)
    this.#names = schemaNames(options)
    const { timeout, interval, batch, prepared } = checkSettings(options)
    this.#prepared = prepared
    this.#timeout = timeout
    this.#deadlines = Number.isFinite(timeout) ? new Deadlines(timeout) : undefined
    this.#batch = batch
    if (options.pool !== undefined) {
      this.#pool = options.pool
      this.#ownPool = undefined
    } else {
      const own = ownPool(options.connectionString, timeout)
      this.#pool = own as unknown as PostgresPoolLike
      this.#ownPool = own
    }
    this.#failures = new BackgroundFailures(options.onError, this.#pool)
    // An idle connection that dies makes the pool emit 'error'; unheard, that would crash Node.
    listenToPool(this.#pool, this.#poolListener)
    if (interval > 0) {
      this.#timer = setInterval(() => void this.#sweepInBackground(), interval * 1000)
      this.#timer.unref?.()
    }
  }

  /**
   * The SQL that creates the tables and indexes, for your migration tool: idempotent
   * (`CREATE … IF NOT EXISTS`), with the names from `options` (`schema`, `tables`, `prefix`).
   *
   * @example
   * ```ts
   * await fs.writeFile('migrations/0007_login_sessions.sql', PostgresStore.migration({ schema: 'auth' }))
   * ```
   *
   * @throws {LoginManagerError} `ERR_INVALID_OPTION` for a name that is not a plain identifier.
   */
  static migration(options: PostgresSchemaOptions = {}): string {
    return migrationSql(schemaNames(options))
  }

  /**
   * Runs {@link PostgresStore.migration}'s SQL: creates what is missing, changes nothing that
   * exists. For development, tests and demos; in production prefer your migration tool.
   *
   * @example
   * ```ts
   * await store.createSchema()
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL cannot be reached or refuses the SQL (no
   * right to create tables, for instance).
   */
  async createSchema(): Promise<void> {
    const text = migrationSql(this.#names)
    // One simple-protocol query holding every statement: PostgreSQL runs it as one transaction.
    // Two processes creating the same tables at once may collide on the catalog: once more then.
    await this.#run(
      'createSchema',
      () =>
        this.#pool.query({ text, values: [] }).catch((error: unknown) => {
          if (codeOf(error) !== '23505' && codeOf(error) !== '42P07') throw error
          return this.#pool.query({ text, values: [] })
        }),
      false,
    )
  }

  /**
   * Checks that the tables, columns, primary keys and indexes are there as the store needs
   * them; creates nothing. Call it at start-up, before serving requests.
   *
   * @example
   * ```ts
   * await store.checkSchema()
   * app.listen(3000)
   * ```
   *
   * @throws {LoginManagerError} `ERR_STORE_SCHEMA` naming every missing or wrong table, column,
   * primary key and index, with what to run.
   * @throws {StoreUnavailableError} when PostgreSQL cannot be reached ("cannot reach PostgreSQL").
   */
  async checkSchema(): Promise<void> {
    const problems = await this.#run(
      'checkSchema',
      () =>
        schemaProblems(this.#names, async (text, values) => {
          return (await this.#pool.query(this.#config({ text, values }, false))).rows
        }),
      false,
    )
    if (problems.length === 0) return
    throw new LoginManagerError(
      'ERR_STORE_SCHEMA',
      `PostgresStore: ${problems.join('; ')}. Run the SQL of PostgresStore.migration(${namesArgument(this.#names)}) with your migration tool, or call store.createSchema().`,
    )
  }

  /**
   * Every field of a live record, or `null`: one primary-key `SELECT`.
   *
   * @example
   * ```ts
   * const fields = await store.get('lm:{u1}:s:…')
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   */
  get(key: string): Promise<Record<string, string> | null> {
    return this.#run('get', async () => {
      const { rows } = await this.#query(getStatement(this.#names, key))
      if (rows.length === 0) return null
      const fields = decodeFields(rows[0]?.fields)
      if (fields === null) throw new Error(`the fields of ${key} are not a JSON object of strings`)
      return fields
    })
  }

  /**
   * A conditional write in one statement (see {@link SessionStore.write}); returns whether it
   * happened, and when it did not, nothing changed. An update that leaves no field deletes the
   * record (in the same statement: a record without fields does not exist, as in Redis).
   *
   * @example
   * ```ts
   * await store.write(newKey, { mode: 'create', set: { u: '42' }, ttl: 3600, index, replaces: oldKey, replacesIndex: index, requires: oldKey })
   * await store.write(tokenKey, { mode: 'update', set: { h: next }, ttl: 3600, expect: { h: read } })
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   * @throws {RangeError} for a non-finite ttl, an unknown mode, a create without fields or a
   * create with `expect`.
   */
  async write(key: string, write: StoreWrite): Promise<boolean> {
    const ttl = checkWrite(write)
    const statement = writeStatement(this.#names, {
      mode: write.mode,
      key,
      set: encodeFields(write.set),
      ttl,
      remove: write.remove?.map(encodeText),
      expect: write.expect === undefined ? undefined : encodeFields(write.expect),
      requires: write.requires,
      replaces: write.replaces !== undefined && write.replaces !== key ? write.replaces : undefined,
      index: write.index,
    })
    return this.#run('write', async () => {
      return (await this.#query(statement)).rows[0]?.n === 1
    })
  }

  /**
   * Extends a live record's expiry to `ttl` seconds from now and sets `fields`, in one `UPDATE`;
   * `false` (and nothing written) when it does not exist.
   *
   * @example
   * ```ts
   * await store.touch(key, 1800, { t: String(now) })
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   * @throws {RangeError} for a non-finite ttl.
   */
  async touch(
    key: string,
    ttl: number,
    fields?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const seconds = wholeSeconds(ttl, 'touch')
    const json =
      fields === undefined || Object.keys(fields).length === 0 ? undefined : encodeFields(fields)
    const statement = touchStatement(this.#names, key, seconds, json)
    return this.#run('touch', async () => ((await this.#query(statement)).rowCount ?? 0) > 0)
  }

  /**
   * Deletes a record and every index entry naming it; deleting a missing key is not an error.
   *
   * @example
   * ```ts
   * await store.destroy(key, index)
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   */
  destroy(key: string, _index?: string): Promise<void> {
    const statement = destroyStatement(this.#names, key)
    return this.#run('destroy', async () => {
      await this.#query(statement)
    })
  }

  /**
   * The keys listed in an index whose records are alive; entries of the others are deleted.
   *
   * @example
   * ```ts
   * const sessions = await store.members('lm:{u1}:idx')
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   */
  members(index: string): Promise<string[]> {
    const statement = membersStatement(this.#names, index)
    return this.#run('members', async () =>
      (await this.#query(statement)).rows.map((row) => String(row.member_key)),
    )
  }

  /**
   * Deletes every record of an index except those in `keep`, with their entries, in one
   * statement; returns how many live records it deleted.
   *
   * @example
   * ```ts
   * const loggedOut = await store.destroyIndex(index, [currentKey])
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   */
  destroyIndex(index: string, keep: readonly string[] = []): Promise<number> {
    const statement = destroyIndexStatement(this.#names, index, keep)
    return this.#run('destroyIndex', async () => {
      return Number((await this.#query(statement)).rows[0]?.n ?? 0)
    })
  }

  /**
   * Deletes expired records and index entries now, in batches of `cleanupBatch` rows (at most 20
   * batches, through the `expires_at` indexes); returns how many records it deleted. The
   * background sweep calls it every `cleanupInterval` seconds.
   *
   * @example
   * ```ts
   * const deleted = await store.cleanup() // from a cron job, with cleanupInterval: 0
   * ```
   *
   * @throws {StoreUnavailableError} when PostgreSQL fails or does not answer within `commandTimeout`.
   */
  cleanup(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined
    })
    return this.#sweeping
  }

  /**
   * Stops the background sweep and, when the store made its own pool (`connectionString`), ends
   * it. A pool the app gave is left open (the store's `error` listener is removed from it).
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { server.close(); await store.close() })
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#sweeping?.catch(() => {})
    unlistenToPool(this.#pool, this.#poolListener)
    if (this.#ownPool !== undefined) await this.#ownPool.end().catch(() => {})
  }

  #sweep(): Promise<number> {
    return sweepExpired(this.#names, this.#batch, (statement) =>
      this.#run('cleanup', async () => Number((await this.#query(statement)).rows[0]?.n)),
    )
  }

  async #sweepInBackground(): Promise<void> {
    if (this.#sweeping !== undefined) return
    try {
      await this.cleanup()
      this.#failures.recovered()
    } catch (error) {
      this.#failures.report(error instanceof Error ? error : new Error(String(error)), 'cleanup')
    }
  }

  #config(statement: Statement, prepare = this.#prepared): PostgresQuery {
    return queryConfig(statement, prepare, this.#timeout)
  }

  #query(statement: Statement): Promise<PostgresResult> {
    return this.#pool.query(this.#config(statement))
  }

  /** Runs an operation under `commandTimeout`, with retries unless `retry` is false. */
  #run<T>(operation: string, work: () => Promise<T>, retry = true): Promise<T> {
    return runOperation(`PostgresStore.${operation}`, work, retry, {
      deadlines: this.#deadlines,
      timeout: this.#timeout,
      names: this.#names,
    })
  }
}
