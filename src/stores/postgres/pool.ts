import pg from 'pg'
import { sha256Hex } from '../../crypto/hash.ts'
import type { PostgresPoolLike, PostgresQuery } from './options.ts'
import type { Statement } from './sql.ts'

// The store's side of the pg pool: the pool it makes for a connectionString, the query config
// of each statement (prepared statement name, client-side timeout), and the pool's error events.

/** The pool made for `connectionString`: the server-side and connect timeouts follow `commandTimeout`. */
export function ownPool(connectionString: string | undefined, timeout: number): pg.Pool {
  return new pg.Pool({
    connectionString,
    ...(Number.isFinite(timeout)
      ? { statement_timeout: Math.ceil(timeout), connectionTimeoutMillis: Math.ceil(timeout) }
      : {}),
  })
}

/** What the store passes to `pool.query` for a statement. */
export function queryConfig(
  statement: Statement,
  prepare: boolean,
  timeout: number,
): PostgresQuery {
  return {
    ...(prepare ? { name: statementName(statement.text) } : {}),
    text: statement.text,
    values: statement.values,
    ...(Number.isFinite(timeout) ? { query_timeout: Math.ceil(timeout) } : {}),
  }
}

// One 'error' listener per pool, whatever the number of stores on it (several prefixes, tests),
// so that Node's MaxListeners warning never fires because of login-manager.
type PoolListener = (error: Error) => void
const poolListeners = new WeakMap<PostgresPoolLike, { all: Set<PoolListener>; on: PoolListener }>()

export function listenToPool(pool: PostgresPoolLike, listener: PoolListener): void {
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

export function unlistenToPool(pool: PostgresPoolLike, listener: PoolListener): void {
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
