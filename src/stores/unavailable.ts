/**
 * What every server-backed store shares about failing: the error a store operation rejects with
 * when the store cannot answer, and the deadlines that turn a slow answer into that error.
 * `RedisStore`, `PostgresStore`, `MySqlStore` and `SqliteStore` reject with the error (all but
 * the last also use the deadlines); `StoreUnavailableError` is exported from each store's subpath
 * (`login-manager/redis`, `/postgres`, `/mysql`, `/sqlite`), one class for all.
 *
 * @module
 */

/**
 * The session store could not be reached or did not answer in time: the request cannot know
 * whether its session exists, so it must fail (HTTP 503) rather than act as if logged out.
 * `reason` is `timeout` or `error`; `cause` is the driver's error.
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

/** One pending deadline of {@link Deadlines}. */
export interface Deadline {
  readonly at: number
  readonly expire: () => void
  done: boolean
}

/**
 * Command timeouts without a timer per command: every command of a store has the same timeout,
 * so deadlines arrive in the order commands were sent, and one timer, armed for the oldest
 * pending deadline, serves them all. (A `setTimeout` and `clearTimeout` per command cost more
 * than the rest of a session read.)
 *
 * @example
 * ```ts
 * const deadlines = new Deadlines(2000)
 * const entry = deadlines.add(() => reject(new StoreUnavailableError('MyStore.get', 'timeout', 'no reply')))
 * work().then((value) => { if (deadlines.settle(entry)) resolve(value) })
 * ```
 */
export class Deadlines {
  readonly #timeout: number
  #queue: Deadline[] = []
  #head = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(timeout: number) {
    this.#timeout = timeout
  }

  add(expire: () => void): Deadline {
    // Drop answered commands from the front, so the queue holds little more than those in flight.
    while (this.#head < this.#queue.length && (this.#queue[this.#head] as Deadline).done) {
      this.#head++
    }
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    const entry: Deadline = { at: performance.now() + this.#timeout, expire, done: false }
    this.#queue.push(entry)
    if (this.#timer === undefined) this.#arm(this.#timeout)
    return entry
  }

  /** Marks a command answered; false when it had already timed out. */
  settle(entry: Deadline): boolean {
    if (entry.done) return false
    entry.done = true
    return true
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(delay)))
    // Pending deadlines alone must not keep the process alive.
    this.#timer.unref?.()
  }

  #expire(): void {
    this.#timer = undefined
    const now = performance.now()
    const queue = this.#queue
    while (this.#head < queue.length) {
      const entry = queue[this.#head] as Deadline
      if (!entry.done) {
        if (entry.at > now) break
        entry.done = true
        entry.expire()
      }
      this.#head++
    }
    if (this.#head === queue.length) {
      this.#queue = []
      this.#head = 0
      return
    }
    if (this.#head > 1024) {
      this.#queue = queue.slice(this.#head)
      this.#head = 0
    }
    this.#arm((this.#queue[this.#head] as Deadline).at - now)
  }
}
