/**
 * The background deletion of expired rows of `MySqlStore`: bounded statements through the
 * `expires_at` indexes, on an `unref`'d timer, its failures reported without ever becoming an
 * unhandled rejection.
 *
 * @module
 */
import type { Runner } from './runner.ts'

/** How a {@link Sweeper} runs. */
export interface SweeperOptions {
  /** Rows per statement. */
  readonly batch: number
  /** Seconds between sweeps; 0: none in the background. */
  readonly interval: number
  /** The app's hook for failed background sweeps. */
  readonly onError: ((error: unknown) => void) | undefined
}

/** Sweeps a store's expired records, then its expired index entries. */
export class Sweeper {
  readonly #runner: Runner
  readonly #options: SweeperOptions
  readonly #timer: ReturnType<typeof setInterval> | undefined
  #running: Promise<number> | undefined
  #closed = false
  /** A background sweep failed and was reported; the next successful sweep ends the outage. */
  #outage = false

  constructor(runner: Runner, options: SweeperOptions) {
    this.#runner = runner
    this.#options = options
    if (options.interval > 0) {
      this.#timer = setInterval(() => this.#background(), options.interval * 1000)
      // Sweeps alone must not keep the process alive.
      this.#timer.unref?.()
    }
  }

  /** One sweep (joining the one running, if any); resolves with the records deleted. */
  run(): Promise<number> {
    this.#running ??= this.#sweep().then(
      (deleted) => {
        this.#running = undefined
        this.#outage = false
        return deleted
      },
      (error: unknown) => {
        this.#running = undefined
        throw error
      },
    )
    return this.#running
  }

  /** Stops the timer and waits for a sweep in progress, which stops after its statement. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await this.#running?.catch(() => {})
  }

  async #sweep(): Promise<number> {
    const batch = this.#options.batch
    let records = 0
    for (const table of ['records', 'index'] as const) {
      for (;;) {
        // A transaction of one statement, for READ COMMITTED: the range it deletes then takes
        // no gap locks that would hold up logins writing new rows.
        const deleted = await this.#runner.run('cleanup', 'transaction', (q) =>
          q.change(table === 'records' ? q.sql.sweepRecords : q.sql.sweepIndex, []),
        )
        if (table === 'records') records += deleted
        if (deleted < batch || this.#closed) break
      }
    }
    return records
  }

  #background(): void {
    this.run().catch((error: unknown) => {
      const hook = this.#options.onError
      if (hook !== undefined) {
        try {
          hook(error)
        } catch {
          // A throwing hook must not become an unhandled rejection.
        }
        return
      }
      if (this.#outage) return
      this.#outage = true
      const message = error instanceof Error ? error.message : String(error)
      console.warn(
        `login-manager: MySqlStore expiry sweep failed (${message}); retrying every ${this.#options.interval} s, quietly until it works again`,
      )
    })
  }
}
