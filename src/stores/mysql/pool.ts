/**
 * The pool `MySqlStore` makes for itself from a `uri`, loading `mysql2/promise` only then.
 *
 * @module
 */
import type { MySqlPoolLike } from './options.ts'

/** A pool the store made, and closes. */
export interface OwnedPool {
  readonly pool: MySqlPoolLike
  end(): Promise<void>
}

/** The store's own pool, from `mysql2/promise`, loaded only when a `uri` asks for it. */
export async function openPool(uri: string, timeout: number): Promise<OwnedPool> {
  const { createPool } = await import('mysql2/promise')
  const pool = createPool({
    uri,
    connectionLimit: 10,
    // A connection attempt longer than an operation may take helps no request.
    connectTimeout: Number.isFinite(timeout) ? Math.max(1000, Math.ceil(timeout)) : 10_000,
    enableKeepAlive: true,
    charset: 'utf8mb4',
  })
  return { pool: pool as unknown as MySqlPoolLike, end: () => pool.end() }
}
