/**
 * How `MySqlStore` talks to the database: one pooled connection per operation, a deadline over
 * the whole operation, transactions at READ COMMITTED, bounded retries of lock conflicts and of
 * a connection found dead, and every failure turned into a `StoreUnavailableError`.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { LoginManagerError } from '../../shared/errors.ts'
import { Deadlines, StoreUnavailableError } from '../unavailable.ts'
import type { MySqlConnectionLike, MySqlParam, MySqlPoolLike } from './options.ts'
import type { Dialect, Statements } from './sql.ts'

/** What an operation may run on its connection. */
export interface Query {
  /** The store's statements, for the server it runs on. */
  readonly sql: Statements
  /** A prepared statement's rows. */
  rows(sql: string, params: MySqlParam[]): Promise<Record<string, unknown>[]>
  /** A prepared statement's affected-rows count. */
  change(sql: string, params: MySqlParam[]): Promise<number>
  /** A statement without parameters, through the text protocol (DDL). */
  run(sql: string): Promise<void>
}

/** One statement on its own (autocommit), or a transaction around the work. */
export type Kind = 'statement' | 'transaction'

/** Deadlocks (1213) and lock wait timeouts (1205): the work is tried again, this many times. */
const CONFLICT_RETRIES = 3
/** A connection that died under a statement is replaced, once, unless it died committing. */
const RECONNECTS = 1

/** The part of `commandTimeout` one statement may take on the server. */
const STATEMENT_SHARE = 0.8
/** MariaDB's `max_statement_time` (1969) and MySQL's `MAX_EXECUTION_TIME` (3024) errors. */
const STATEMENT_TIMEOUTS = new Set([1969, 3024])
const CONFLICTS = new Set([1205, 1213])
/** ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR: the schema is not what the store needs. */
const SCHEMA_ERRORS = new Set([1146, 1054])

/** The `errno` of a mysql2 error, if it has one. */
export function errnoOf(error: unknown): number | undefined {
  const errno = (error as { errno?: unknown } | null)?.errno
  return typeof errno === 'number' ? errno : undefined
}

/** Whether mysql2 reported the connection itself as broken. */
function isFatal(error: unknown): boolean {
  return (error as { fatal?: unknown } | null)?.fatal === true
}

/** Connections given an `error` listener, by any store (several may share one pool). */
const guarded = new WeakSet<object>()

interface Held {
  connection: MySqlConnectionLike | undefined
  /** The deadline passed: whatever the work does from now on is dropped. */
  over: boolean
}

/** Runs a store's operations on its pool. */
export class Runner {
  readonly #pool: () => Promise<MySqlPoolLike>
  readonly #timeout: number
  readonly #deadlines: Deadlines | undefined
  readonly #build: (dialect: Dialect) => Statements
  #statements: Statements | undefined

  constructor(
    pool: () => Promise<MySqlPoolLike>,
    timeout: number,
    build: (dialect: Dialect) => Statements,
  ) {
    this.#pool = pool
    this.#timeout = timeout
    this.#deadlines = Number.isFinite(timeout) ? new Deadlines(timeout) : undefined
    this.#build = build
  }

  /**
   * Runs `work` on a connection of the pool within the store's deadline. A transaction commits
   * when `commit(result)` holds and rolls back otherwise.
   *
   * @throws {StoreUnavailableError} for every database failure, and when the deadline passes.
   * @throws {LoginManagerError} thrown by `work` itself (a schema check).
   */
  run<T>(
    operation: string,
    kind: Kind,
    work: (query: Query) => Promise<T>,
    commit: (result: T) => boolean = () => true,
  ): Promise<T> {
    const name = `MySqlStore.${operation}`
    const held: Held = { connection: undefined, over: false }
    const attempts = this.#attempts(held, kind, work, commit)
    const deadlines = this.#deadlines
    if (deadlines === undefined) {
      return attempts.catch((error: unknown) => {
        throw unavailable(name, error)
      })
    }
    return new Promise<T>((resolve, reject) => {
      const entry = deadlines.add(() => {
        held.over = true
        // The statement may still run: its connection is closed (the server then rolls back
        // what was not committed) rather than handed to the next operation mid-statement.
        held.connection?.destroy()
        held.connection = undefined
        reject(
          new StoreUnavailableError(
            name,
            'timeout',
            `no answer from the database within ${this.#timeout} ms`,
          ),
        )
      })
      attempts.then(
        (value) => {
          if (deadlines.settle(entry)) resolve(value)
        },
        (error: unknown) => {
          if (deadlines.settle(entry)) reject(unavailable(name, error))
        },
      )
    })
  }

  async #attempts<T>(
    held: Held,
    kind: Kind,
    work: (query: Query) => Promise<T>,
    commit: (result: T) => boolean,
  ): Promise<T> {
    let conflicts = 0
    let reconnects = 0
    for (;;) {
      let connection: MySqlConnectionLike | undefined
      let committing = false
      try {
        connection = await (await this.#pool()).getConnection()
        if (held.over) {
          connection.release()
          throw new Error('the operation timed out before a connection was free')
        }
        held.connection = connection
        this.#guard(connection)
        const query = bind(connection, this.#statements ?? (await this.#detect(connection)))
        let result: T
        if (kind === 'statement') result = await work(query)
        else {
          await connection.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
          await connection.query('START TRANSACTION')
          result = await work(query)
          committing = commit(result)
          await connection.query(committing ? 'COMMIT' : 'ROLLBACK')
        }
        held.connection = undefined
        connection.release()
        return result
      } catch (error) {
        // Past the deadline the request has its answer, and the connection was closed.
        if (held.over) throw error
        if (connection !== undefined) {
          held.connection = undefined
          await settle(connection, kind, error)
        }
        if (CONFLICTS.has(errnoOf(error) ?? 0) && conflicts < CONFLICT_RETRIES) {
          conflicts++
          await sleep(conflicts * (5 + Math.random() * 10), undefined, { ref: false })
          if (held.over) throw error
          continue
        }
        // A connection that died before COMMIT was sent took its transaction with it: the work
        // can run again on a new one. One that died committing leaves the outcome unknown.
        if (isFatal(error) && !committing && reconnects < RECONNECTS) {
          reconnects++
          continue
        }
        throw error
      }
    }
  }

  /** Learns once which server this is, on the first connection, and builds the statements. */
  async #detect(connection: MySqlConnectionLike): Promise<Statements> {
    const [rows] = await connection.query('SELECT VERSION() AS version')
    const version = String((rows as { version?: unknown }[])[0]?.version ?? '')
    this.#statements ??= this.#build({
      mariadb: /mariadb/i.test(version),
      // The server ends a stuck statement a little before the client gives up on the whole
      // operation: the connection then stays usable instead of being closed.
      statementTimeout: Number.isFinite(this.#timeout)
        ? Math.max(1, Math.floor(this.#timeout * STATEMENT_SHARE))
        : undefined,
    })
    return this.#statements
  }

  /**
   * Listens to the `error` events of the connections it uses: mysql2 emits connection errors
   * there, and an `error` event without a listener would crash the process. (The pool's own
   * listener, which takes a broken connection out of the pool, stays in place.)
   */
  #guard(connection: MySqlConnectionLike): void {
    const core = (connection as { connection?: unknown }).connection
    if (core === null || typeof core !== 'object' || guarded.has(core)) return
    const on = (core as { on?: unknown }).on
    if (typeof on !== 'function') return
    guarded.add(core)
    on.call(core, 'error', () => {})
  }
}

/** Gives a connection back after a failed attempt: rolled back, or closed when broken. */
async function settle(connection: MySqlConnectionLike, kind: Kind, error: unknown): Promise<void> {
  if (isFatal(error)) {
    connection.destroy()
    return
  }
  if (kind === 'transaction') {
    try {
      // A lock wait timeout rolls back only its statement: the rest goes here.
      await connection.query('ROLLBACK')
    } catch {
      connection.destroy()
      return
    }
  }
  connection.release()
}

function bind(connection: MySqlConnectionLike, sql: Statements): Query {
  return {
    sql,
    async rows(text, params) {
      const [result] = await connection.execute(text, params)
      return Array.isArray(result) ? (result as Record<string, unknown>[]) : []
    },
    async change(text, params) {
      const [result] = await connection.execute(text, params)
      return Number((result as { affectedRows?: unknown }).affectedRows ?? 0)
    },
    async run(text) {
      await connection.query(text)
    },
  }
}

/** Every failure as a `StoreUnavailableError`, except the store's own start-up errors. */
function unavailable(name: string, error: unknown): Error {
  if (error instanceof StoreUnavailableError || error instanceof LoginManagerError) return error
  const errno = errnoOf(error)
  let detail = error instanceof Error ? error.message : String(error)
  if (SCHEMA_ERRORS.has(errno ?? 0)) {
    detail +=
      '; the tables are missing or out of date: run the SQL of MySqlStore.migration() (or createSchema()), and call checkSchema() at start-up'
  } else if (CONFLICTS.has(errno ?? 0)) {
    detail += ` (tried ${CONFLICT_RETRIES + 1} times)`
  }
  return new StoreUnavailableError(
    name,
    STATEMENT_TIMEOUTS.has(errno ?? 0) ? 'timeout' : 'error',
    detail || 'database error',
    { cause: error },
  )
}
