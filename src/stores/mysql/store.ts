import type { SessionStore, StoreWrite } from '../../session/store.ts'
import type {
  MySqlPoolLike,
  MySqlStoreOptions,
  MySqlStoreTables,
  ResolvedOptions,
} from './options.ts'
import { resolveOptions, tableNames } from './options.ts'
import { type OwnedPool, openPool } from './pool.ts'
import { errnoOf, type Query, Runner } from './runner.ts'
import { checkTables, createStatements, migrationText } from './schema.ts'
import { CHUNK, fieldPath, padded, quote, Statements } from './sql.ts'
import { Sweeper } from './sweeper.ts'
import { checkKey, patch, recordOf, text, wholeSeconds } from './values.ts'

/** ER_DUP_ENTRY: a create found its key taken. */
const DUPLICATE = 1062

/**
 * A {@link SessionStore} in MySQL 8 or MariaDB 10.6 and later, through the app's `mysql2` pool
 * (or one it makes from a URL). Import it from `login-manager/mysql`. Sessions, remember-me
 * tokens and the per-user indexes live in two InnoDB tables; see {@link MySqlStore.migration}
 * for their SQL.
 *
 * - **Atomic**: a `write` is one transaction (at READ COMMITTED: every condition is checked by a
 *   locking read or by the statement that writes, which see the latest committed row at any
 *   level, and READ COMMITTED takes no gap locks, so unrelated logins never wait on each other).
 *   A `requires` key is locked (`SELECT … FOR UPDATE`) before anything is written, so a
 *   concurrent destruction of it happens wholly before (the write is refused) or after.
 *   `touch`, `get`, `destroy` and `members` are one statement each.
 * - **Per-field updates** happen in SQL (`JSON_MERGE_PATCH`), never read and written back, so
 *   two requests setting different fields both keep theirs.
 * - **Expiry** comes from the database's clock (every app instance agrees on it) and is checked
 *   by every read; expired rows are deleted in the background in batches of `cleanupBatch`
 *   through the `expires_at` indexes. A record's index entries always outlive it.
 * - **Failures**: every operation rejects with a `StoreUnavailableError` when the database
 *   fails or when `commandTimeout` passes (retries included); deadlocks and lock wait timeouts
 *   are retried 3 times, a connection that died under a statement is replaced once. A write
 *   that timed out was rolled back, or may have committed if it timed out while committing: it
 *   is never reported as saved.
 * - TTLs are whole seconds, at least 1 (fractions round up), as in `RedisStore`. A record
 *   without fields does not exist: an update that removes every field deletes it.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise'
 * import { MySqlStore } from 'login-manager/mysql'
 *
 * const pool = mysql.createPool({ uri: process.env.MYSQL_URL, connectionLimit: 10 })
 * const store = new MySqlStore({ pool, commandTimeout: 500 })
 * await store.checkSchema() // at start-up: throws ERR_STORE_SCHEMA naming what is missing
 * ```
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` from the constructor when it is given the pool
 * itself instead of `{ pool }`, neither or both of `pool` and `uri`, a table name or prefix
 * with other characters than letters, digits and `_`, or an out-of-range number. Every method
 * rejects with a `StoreUnavailableError` when the database fails or is too slow, and with a
 * `RangeError` for an invalid argument (a non-finite ttl, an unknown mode, a create without
 * fields, a key over 255 bytes).
 */
export class MySqlStore implements SessionStore {
  readonly #options: ResolvedOptions
  readonly #runner: Runner
  readonly #owned: Promise<OwnedPool> | undefined
  readonly #sweeper: Sweeper

  /**
   * The SQL that creates the store's two tables (`CREATE TABLE IF NOT EXISTS`), for the app's
   * own migration tool. `tables` and `prefix` as in the constructor.
   *
   * @example
   * ```ts
   * // a knex migration, one statement per query
   * export async function up(knex) {
   *   for (const sql of MySqlStore.migration({ prefix: 'myapp_' }).split(/;$/m)) {
   *     if (sql.trim() !== '') await knex.raw(sql)
   *   }
   * }
   * ```
   *
   * @throws {LoginManagerError} `ERR_INVALID_OPTION` for a table name or prefix with other
   * characters than letters, digits and `_`.
   */
  static migration(
    options: { readonly tables?: MySqlStoreTables; readonly prefix?: string } = {},
  ): string {
    return migrationText(tableNames(options))
  }

  constructor(options: MySqlStoreOptions) {
    this.#options = resolveOptions(options)
    const given = this.#options.pool
    const uri = this.#options.uri
    let pool: () => Promise<MySqlPoolLike>
    if (given !== undefined) {
      const ready = Promise.resolve(given)
      pool = () => ready
    } else {
      const owned = openPool(uri as string, this.#options.commandTimeout)
      // Rejections are seen by the operations that wait for the pool.
      owned.catch(() => {})
      this.#owned = owned
      pool = () => owned.then((o) => o.pool)
    }
    const names = this.#options.names
    const tables = { records: quote(names.records), index: quote(names.index) }
    this.#runner = new Runner(
      pool,
      this.#options.commandTimeout,
      (dialect) => new Statements(tables, dialect, this.#options.cleanupBatch),
    )
    this.#sweeper = new Sweeper(this.#runner, {
      batch: this.#options.cleanupBatch,
      interval: this.#options.cleanupInterval,
      onError: this.#options.onError,
    })
  }

  /**
   * The two table names in use, prefix included.
   *
   * @example
   * ```ts
   * new MySqlStore({ pool, prefix: 'app_' }).tables // { records: 'app_login_sessions', index: 'app_login_session_index' }
   * ```
   *
   * @throws Never.
   */
  get tables(): { readonly records: string; readonly index: string } {
    return this.#options.names
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
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   * @throws {RangeError} for a key that is not a string of 1 to 255 bytes.
   */
  async get(key: string): Promise<Record<string, string> | null> {
    checkKey(key, 'get')
    return this.#runner.run('get', 'statement', async (q) => {
      const [row] = await q.rows(q.sql.get, [key])
      return row === undefined ? null : recordOf(row.fields)
    })
  }

  /**
   * A conditional write in one transaction: `create` only when the key is absent (or expired),
   * `update` only when it is alive, and only when the fields in `expect` hold exactly those
   * values and the key in `requires` is alive; then the fields set and removed, the expiry, the
   * index entry and the replaced record deleted (with its index entries). Returns whether the
   * write happened; when it did not, nothing changed.
   *
   * @example
   * ```ts
   * await store.write(newKey, { mode: 'create', set: { u: '42' }, ttl: 3600, index, replaces: oldKey, replacesIndex: index, requires: oldKey })
   * await store.write(tokenKey, { mode: 'update', set: { h: next }, ttl: 3600, expect: { h: read } })
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   * @throws {RangeError} for a non-finite ttl, an unknown mode, a create without fields or a
   * create with `expect`, or a key that is not a string of 1 to 255 bytes.
   */
  async write(key: string, write: StoreWrite): Promise<boolean> {
    const ttl = wholeSeconds(write.ttl, 'write') * 1000
    if (write.mode !== 'create' && write.mode !== 'update') {
      throw new RangeError(`MySqlStore.write: mode must be 'create' or 'update'`)
    }
    if (write.mode === 'create' && Object.keys(write.set).length === 0) {
      throw new RangeError('MySqlStore.write: a created record needs at least one field')
    }
    if (write.mode === 'create' && write.expect !== undefined) {
      throw new RangeError('MySqlStore.write: `expect` applies to updates only')
    }
    checkKey(key, 'write')
    for (const other of [write.index, write.replaces, write.requires]) {
      if (other !== undefined) checkKey(other, 'write')
    }
    const { mode, index, requires } = write
    const replaces =
      write.replaces !== undefined && write.replaces !== key ? write.replaces : undefined
    const fields = JSON.stringify(patch(write.set, mode === 'update' ? write.remove : undefined))
    const expect: string[] = [key]
    for (const [field, value] of Object.entries(write.expect ?? {})) {
      expect.push(fieldPath(field), value)
    }
    const removes = mode === 'update' && (write.remove?.length ?? 0) > 0
    return this.#runner.run(
      'write',
      'transaction',
      async (q) => {
        if (requires !== undefined && (await q.rows(q.sql.lockLive, [requires])).length === 0) {
          return false
        }
        let emptied = false
        if (mode === 'create') {
          if (!(await insert(q, key, fields, ttl))) return false
        } else {
          const expected = (expect.length - 1) / 2
          if (expected > 0 && (await q.rows(q.sql.lockExpected(expected), expect)).length === 0) {
            return false
          }
          if ((await q.change(q.sql.update, [fields, ttl, ttl, ttl, ttl, key])) === 0) return false
          emptied = removes && (await q.change(q.sql.destroyIfEmpty, [key])) > 0
        }
        if (replaces !== undefined) await q.change(q.sql.destroy, [replaces])
        if (index !== undefined && !emptied) {
          await q.change(q.sql.addToIndex, [index, key, ttl, ttl])
        }
        return true
      },
      (written) => written,
    )
  }

  /**
   * Extends a live record's expiry to `ttl` seconds from now and sets `fields` on it, in one
   * statement (its index entries extended with it); returns `false`, writing nothing, when the
   * record does not exist or has expired.
   *
   * @example
   * ```ts
   * await store.touch(key, 1800, { t: String(now) })
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   * @throws {RangeError} for a non-finite ttl or a key that is not a string of 1 to 255 bytes.
   */
  async touch(
    key: string,
    ttl: number,
    fields?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const ms = wholeSeconds(ttl, 'touch') * 1000
    checkKey(key, 'touch')
    const set = JSON.stringify(patch(fields ?? {}, undefined))
    return this.#runner.run(
      'touch',
      'statement',
      async (q) => (await q.change(q.sql.update, [set, ms, ms, ms, ms, key])) > 0,
    )
  }

  /**
   * Deletes a record and its entries in every index (`index` among them), in one statement.
   * Deleting a missing key is not an error.
   *
   * @example
   * ```ts
   * await store.destroy(key, index)
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   * @throws {RangeError} for a key that is not a string of 1 to 255 bytes.
   */
  async destroy(key: string, index?: string): Promise<void> {
    checkKey(key, 'destroy')
    if (index !== undefined) checkKey(index, 'destroy')
    await this.#runner.run('destroy', 'statement', (q) => q.change(q.sql.destroy, [key]))
  }

  /**
   * The keys listed in an index whose records are alive: one `SELECT` joining the index's
   * primary-key range to the records.
   *
   * @example
   * ```ts
   * const sessions = await store.members('lm:{u1}:idx')
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   * @throws {RangeError} for a key that is not a string of 1 to 255 bytes.
   */
  async members(index: string): Promise<string[]> {
    checkKey(index, 'members')
    return this.#runner.run('members', 'statement', async (q) =>
      (await q.rows(q.sql.members, [index])).map((row) => text(row.member_key)),
    )
  }

  /**
   * Deletes every live record listed in an index except those in `keep`, with their entries in
   * every index, and returns how many it deleted: one transaction, 256 records per statement.
   *
   * @example
   * ```ts
   * const loggedOut = await store.destroyIndex(index, [currentKey])
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   * @throws {RangeError} for a key that is not a string of 1 to 255 bytes.
   */
  async destroyIndex(index: string, keep: readonly string[] = []): Promise<number> {
    checkKey(index, 'destroyIndex')
    const kept = new Set(keep)
    return this.#runner.run('destroyIndex', 'transaction', async (q) => {
      const listed = (await q.rows(q.sql.listed, [index])).map((row) => text(row.member_key))
      const doomed = listed.filter((member) => !kept.has(member))
      let destroyed = 0
      for (let i = 0; i < doomed.length; i += CHUNK) {
        const chunk = doomed.slice(i, i + CHUNK)
        const keys = padded(chunk)
        destroyed += await q.change(q.sql.destroyLive(chunk.length), keys)
        await q.change(q.sql.unindex(chunk.length), keys)
      }
      return destroyed
    })
  }

  /**
   * Creates the two tables if they do not exist (the SQL of {@link MySqlStore.migration}), then
   * checks them as {@link MySqlStore.checkSchema} does: an existing table of another shape is
   * reported, never changed. For development and demos; in production, run the migration with
   * your migration tool and call `checkSchema()` at start-up.
   *
   * @example
   * ```ts
   * await store.createSchema()
   * ```
   *
   * @throws {LoginManagerError} `ERR_STORE_SCHEMA` when a table exists with another shape.
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   */
  async createSchema(): Promise<void> {
    await this.#runner.run('createSchema', 'statement', async (q) => {
      for (const statement of createStatements(this.#options.names)) await q.run(statement)
    })
    await this.checkSchema()
  }

  /**
   * Checks, at start-up, that both tables exist with the columns, types, keys and indexes the
   * store needs, and throws naming exactly what is missing or wrong (with the SQL that fixes
   * it). Creates nothing.
   *
   * @example
   * ```ts
   * await store.checkSchema() // before the server listens
   * ```
   *
   * @throws {LoginManagerError} `ERR_STORE_SCHEMA` naming each missing or wrong table, column
   * or index, or a pool without a current database.
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   */
  async checkSchema(): Promise<void> {
    await this.#runner.run('checkSchema', 'statement', (q) =>
      checkTables((sql, params) => q.rows(sql, params), this.#options.names),
    )
  }

  /**
   * Deletes expired records and index entries now, `cleanupBatch` rows per statement, until a
   * statement comes back short; returns how many records it deleted. The background sweep calls
   * it every `cleanupInterval` seconds; with `cleanupInterval: 0`, call it yourself. A sweep
   * already running is joined, not doubled.
   *
   * @example
   * ```ts
   * setInterval(() => store.cleanup().catch(log.warn), 60_000).unref()
   * ```
   *
   * @throws {StoreUnavailableError} when the database fails or does not answer in time.
   */
  cleanup(): Promise<number> {
    return this.#sweeper.run()
  }

  /**
   * Stops the background sweep (waiting for one in progress) and, when the store made its own
   * pool from `uri`, closes it. A pool the app gave is left open.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await store.close(); await pool.end() })
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async close(): Promise<void> {
    await this.#sweeper.close()
    if (this.#owned !== undefined) {
      await this.#owned.then((owned) => owned.end()).catch(() => {})
    }
  }
}

/**
 * Creates a record, refusing when its key is taken by a live one. An expired record in the way
 * (the sweep has not reached it yet) is deleted first, with its index entries.
 */
async function insert(q: Query, key: string, fields: string, ttl: number): Promise<boolean> {
  try {
    await q.change(q.sql.insert, [key, fields, ttl])
    return true
  } catch (error) {
    if (errnoOf(error) !== DUPLICATE) throw error
  }
  // A plain read: a locking one by every loser of a race to create one key would deadlock.
  const [row] = await q.rows(q.sql.isLive, [key])
  if (row === undefined || Number(row.live) === 1) return false
  if ((await q.change(q.sql.deleteExpired, [key])) === 0) return false
  try {
    await q.change(q.sql.insert, [key, fields, ttl])
    return true
  } catch (error) {
    if (errnoOf(error) === DUPLICATE) return false
    throw error
  }
}
