/**
 * The session store could not be reached or did not answer in time: the request cannot know
 * whether its session exists, so it must fail (HTTP 503) rather than act as if logged out.
 * `reason` is `timeout` or `error`; `cause` is the driver's error. Every store that talks to a
 * server or a file (`RedisStore`, `SqliteStore`) rejects with it; it is exported by each of
 * their subpaths.
 *
 * @example
 * ```ts
 * try { await store.get(key) }
 * catch (err) {
 *   if (err instanceof StoreUnavailableError) return new Response('Try again', { status: 503 })
 *   throw err
 * }
 * ```
 *
 * @throws Never itself: it is what store operations throw.
 */
export class StoreUnavailableError extends Error {
  /** Always `ERR_STORE_UNAVAILABLE` (check it when `instanceof` cannot be used). */
  readonly code = 'ERR_STORE_UNAVAILABLE'
  /** The failed operation, such as `RedisStore.write`. */
  readonly operation: string
  /** `timeout` when no reply came in time (or a lock was held too long), `error` when the driver or the database reported one. */
  readonly reason: 'timeout' | 'error'

  /**
   * Creates the error; `detail` says why the operation failed, for the message.
   *
   * @example
   * ```ts
   * new StoreUnavailableError('MyStore.get', 'error', 'connection refused', { cause: err })
   * ```
   *
   * @throws Never.
   */
  constructor(
    operation: string,
    reason: 'timeout' | 'error',
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`ERR_STORE_UNAVAILABLE: ${operation} failed (${reason}): ${detail}`, options)
    this.name = 'StoreUnavailableError'
    this.operation = operation
    this.reason = reason
  }
}
