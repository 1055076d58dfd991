import pg from 'pg'
import { sha256Hex } from '../../crypto/hash.ts'
import type { SessionStore, StoreWrite } from '../../session/store.ts'
import { LoginManagerError } from '../../shared/errors.ts'
import { Deadlines, StoreUnavailableError } from '../unavailable.ts'
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
  sweepIndexStatement,
  sweepRecordsStatement,
  touchStatement,
  writeStatement,
} from './sql.ts'

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
 * import { sha256Hex } from '../../crypto/hash.ts'
import pg from 'pg'
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

/** Attempts of one operation that hits a serialization failure or a deadlock. */
const ATTEMPTS = 3
const RETRYABLE = new Set(['40001', '40P01'])
/** Batches one sweep runs at most before it leaves the rest to the next one. */
const SWEEP_BATCHES = 20

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
 * import { sha256Hex } from '../../crypto/hash.ts'
import pg from 'pg'
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
  readonly #onError: PostgresStoreOptions['onError']
  readonly #poolListener = (error: Error): void => this.#report(error, 'pool')
  #timer: ReturnType<typeof setInterval> | undefined
  #sweeping: Promise<number> | undefined
  #warned = false

  constructor(options: PostgresStoreOptions) {
    checkOptionsShape(options)
    this.#names = schemaNames(options)
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
    this.#prepared = prepared
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw invalid('onError must be a function')
    }
    this.#timeout = timeout
    this.#deadlines = Number.isFinite(timeout) ? new Deadlines(timeout) : undefined
    this.#batch = batch
    this.#onError = options.onError
    if (options.pool !== undefined) {
      this.#pool = options.pool
      this.#ownPool = undefined
    } else {
      const own = new pg.Pool({
        connectionString: options.connectionString,
        ...(Number.isFinite(timeout)
          ? { statement_timeout: Math.ceil(timeout), connectionTimeoutMillis: Math.ceil(timeout) }
          : {}),
      })
      this.#pool = own as unknown as PostgresPoolLike
      this.#ownPool = own
    }
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
      `PostgresStore: ${problems.join('; ')}. Run the SQL of PostgresStore.migration(${this.#namesArgument()}) with your migration tool, or call store.createSchema().`,
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

  async #sweep(): Promise<number> {
    let deleted = 0
    for (let i = 0; i < SWEEP_BATCHES; i++) {
      const n = await this.#run('cleanup', async () =>
        Number((await this.#query(sweepRecordsStatement(this.#names, this.#batch))).rows[0]?.n),
      )
      deleted += n
      if (n < this.#batch) break
    }
    for (let i = 0; i < SWEEP_BATCHES; i++) {
      const n = await this.#run('cleanup', async () =>
        Number((await this.#query(sweepIndexStatement(this.#names, this.#batch))).rows[0]?.n),
      )
      if (n < this.#batch) break
    }
    return deleted
  }

  async #sweepInBackground(): Promise<void> {
    if (this.#sweeping !== undefined) return
    try {
      await this.cleanup()
      this.#warned = false
    } catch (error) {
      this.#report(error instanceof Error ? error : new Error(String(error)), 'cleanup')
    }
  }

  #report(error: Error, source: 'cleanup' | 'pool'): void {
    if (this.#onError !== undefined) {
      try {
        this.#onError(error, source)
      } catch {
        // The hook's own failure must not become an unhandled error either.
      }
      return
    }
    // The app logs pool errors itself when it listens to them.
    if (source === 'pool' && (this.#pool.listenerCount?.('error') ?? 0) > 1) return
    if (this.#warned) return
    this.#warned = true
    console.warn(
      `login-manager: PostgresStore ${source === 'pool' ? 'pool error' : 'cleanup failed'}: ${error.message} (further failures are not logged until a cleanup succeeds; pass onError to see them all)`,
    )
  }

  #config(statement: Statement, prepare = this.#prepared): PostgresQuery {
    return {
      ...(prepare ? { name: statementName(statement.text) } : {}),
      text: statement.text,
      values: statement.values,
      ...(Number.isFinite(this.#timeout) ? { query_timeout: Math.ceil(this.#timeout) } : {}),
    }
  }

  #query(statement: Statement): Promise<PostgresResult> {
    return this.#pool.query(this.#config(statement))
  }

  #namesArgument(): string {
    const n = this.#names
    const parts: string[] = []
    if (n.schema !== undefined) parts.push(`schema: '${n.schema}'`)
    if (n.recordsName !== 'login_sessions' || n.indexName !== 'login_session_index') {
      parts.push(`tables: { records: '${n.recordsName}', index: '${n.indexName}' }`)
    }
    return parts.length === 0 ? '' : `{ ${parts.join(', ')} }`
  }

  /**
   * Runs an operation under `commandTimeout`, retrying serialization failures and deadlocks
   * (`retry`), turning every failure into a StoreUnavailableError.
   */
  #run<T>(operation: string, work: () => Promise<T>, retry = true): Promise<T> {
    const name = `PostgresStore.${operation}`
    const attempts = async (): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await work()
        } catch (error) {
          if (!retry || attempt >= ATTEMPTS || !RETRYABLE.has(codeOf(error))) throw error
          // A short, random pause, so that the transactions that collided do not collide again.
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt))
        }
      }
    }
    const deadlines = this.#deadlines
    if (deadlines === undefined) {
      return attempts().catch((error: unknown) => {
        throw unavailable(name, error, this.#names)
      })
    }
    return new Promise<T>((resolve, reject) => {
      const entry = deadlines.add(() =>
        reject(
          new StoreUnavailableError(
            name,
            'timeout',
            `no answer from PostgreSQL within ${this.#timeout} ms`,
          ),
        ),
      )
      // Once timed out, a late answer or failure is dropped (never an unhandled rejection).
      attempts().then(
        (value) => {
          if (deadlines.settle(entry)) resolve(value)
        },
        (error: unknown) => {
          if (deadlines.settle(entry)) reject(unavailable(name, error, this.#names))
        },
      )
    })
  }
}

// One 'error' listener per pool, whatever the number of stores on it (several prefixes, tests),
// so that Node's MaxListeners warning never fires because of login-manager.
type PoolListener = (error: Error) => void
const poolListeners = new WeakMap<PostgresPoolLike, { all: Set<PoolListener>; on: PoolListener }>()

function listenToPool(pool: PostgresPoolLike, listener: PoolListener): void {
  let entry = poolListeners.get(pool)
  if (entry === undefined) {
    const all = new Set<PoolListener>()
    const on: PoolListener = (error) => {
      for (const each of all) each(error)
    }
    entry = { all, on }
    poolListeners.set(pool, entry)
    pool.on?.('error', on)
  }
  entry.all.add(listener)
}

function unlistenToPool(pool: PostgresPoolLike, listener: PoolListener): void {
  const entry = poolListeners.get(pool)
  if (entry === undefined) return
  entry.all.delete(listener)
  if (entry.all.size > 0) return
  pool.removeListener?.('error', entry.on)
  poolListeners.delete(pool)
}

const names = new Map<string, string>()

/**
 * The prepared statement name of a statement text: a hash of it, so that one text always gets
 * one name on every connection, and two texts never share one.
 */
function statementName(text: string): string {
  let name = names.get(text)
  if (name === undefined) {
    name = `lm_${sha256Hex(text).slice(0, 24)}`
    // The texts are few (one per operation, write shape and table set); the bound is a guard.
    if (names.size >= 4096) names.clear()
    names.set(text, name)
  }
  return name
}

function invalid(message: string): LoginManagerError {
  return new LoginManagerError('ERR_INVALID_OPTION', `PostgresStore ${message}`)
}

/** Refuses anything but an options object with exactly one of `pool` and `connectionString`. */
function checkOptionsShape(options: unknown): asserts options is PostgresStoreOptions {
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

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

/** The StoreUnavailableError for a failure: timeouts told apart, missing tables explained. */
function unavailable(operation: string, error: unknown, names: SchemaNames): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  const code = codeOf(error)
  const message = error instanceof Error ? error.message : String(error)
  const timeout =
    code === '57014' ||
    /^(Query read timeout|timeout exceeded when trying to connect)/.test(message)
  let detail = message || 'pg client error'
  if (code === '42P01' || code === '42703' || code === '3F000') {
    detail += ` (the schema is missing or out of date: create ${names.recordsName} and ${names.indexName} with PostgresStore.migration() or store.createSchema(), and call store.checkSchema() at start-up)`
  } else if (RETRYABLE.has(code)) {
    detail += ` (still failing after ${ATTEMPTS} attempts)`
  } else if (!timeout && unreachable(code, message)) {
    detail = `cannot reach PostgreSQL: ${detail}`
  }
  return new StoreUnavailableError(operation, timeout ? 'timeout' : 'error', detail, {
    cause: error,
  })
}

/** A failure of the connection rather than of a statement: a system error, SQLSTATE class 08, a shutdown. */
function unreachable(code: string, message: string): boolean {
  if (/^E[A-Z]+$/.test(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true
  return code === '' && /connection|connect|terminated/i.test(message)
}

function wholeSeconds(ttl: number, operation: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new RangeError(`PostgresStore.${operation}: ttl must be a finite number of seconds`)
  }
  return Math.max(1, Math.ceil(ttl))
}
