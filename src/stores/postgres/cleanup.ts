import type { PostgresPoolLike, PostgresStoreOptions } from './options.ts'
import type { SchemaNames } from './schema.ts'
import { type Statement, sweepIndexStatement, sweepRecordsStatement } from './sql.ts'

// PostgresStore's sweep of expired rows, and where the failures that belong to no request (a
// background sweep, the pool's error events) go.

/** Batches one sweep runs at most before it leaves the rest to the next one. */
const SWEEP_BATCHES = 20

/**
 * Deletes expired records, then expired index entries, `batch` rows per statement; returns how
 * many records it deleted. `deleteBatch` runs one statement and returns its row count.
 */
export async function sweepExpired(
  names: SchemaNames,
  batch: number,
  deleteBatch: (statement: Statement) => Promise<number>,
): Promise<number> {
  let deleted = 0
  for (let i = 0; i < SWEEP_BATCHES; i++) {
    const n = await deleteBatch(sweepRecordsStatement(names, batch))
    deleted += n
    if (n < batch) break
  }
  for (let i = 0; i < SWEEP_BATCHES; i++) {
    const n = await deleteBatch(sweepIndexStatement(names, batch))
    if (n < batch) break
  }
  return deleted
}

/**
 * Hands background failures to `onError`, or else warns once per outage: after the first
 * warning, nothing more is logged until a sweep succeeds ({@link BackgroundFailures.recovered}).
 */
export class BackgroundFailures {
  readonly #onError: PostgresStoreOptions['onError']
  readonly #pool: PostgresPoolLike
  #warned = false

  constructor(onError: PostgresStoreOptions['onError'], pool: PostgresPoolLike) {
    this.#onError = onError
    this.#pool = pool
  }

  recovered(): void {
    this.#warned = false
  }

  report(error: Error, source: 'cleanup' | 'pool'): void {
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
}
