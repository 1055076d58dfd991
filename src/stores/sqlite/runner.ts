import { setTimeout as sleep } from 'node:timers/promises'
import { StoreUnavailableError } from '../unavailable.ts'
import { describe, isBusy } from './driver.ts'

/**
 * Attempts of one operation while the database is locked: the bound even without a
 * `commandTimeout` (at the longest pause, over 25 s of waiting).
 */
const MAX_ATTEMPTS = 100
/** The pause before the second attempt, doubled each time up to {@link MAX_PAUSE} (ms). */
const FIRST_PAUSE = 10
const MAX_PAUSE = 250

/**
 * Runs a store's operations: synchronous SQL, retried while another connection holds the lock
 * (after SQLite's own `busy_timeout`), each failure turned into a {@link StoreUnavailableError}.
 *
 * While one write waits out a lock, the store's other writes wait behind it instead of each
 * blocking the thread in SQLite's busy handler on the same lock; the pauses between attempts
 * let other requests run. Reads do not wait: in WAL mode a writer does not block them.
 */
export class Runner {
  readonly #timeout: number
  #closed = false
  #gate: Promise<void> | undefined

  /** `timeout`: milliseconds an operation may wait in all (`Infinity`: {@link MAX_ATTEMPTS} attempts). */
  constructor(timeout: number) {
    this.#timeout = timeout
  }

  /** From now on every operation rejects, those waiting for a lock included. */
  close(): void {
    this.#closed = true
  }

  /**
   * Runs `work`, named `SqliteStore.<operation>` in errors. `write`: it takes the write lock.
   * @throws StoreUnavailableError
   */
  async run<T>(operation: string, write: boolean, work: () => T): Promise<T> {
    const name = `SqliteStore.${operation}`
    const started = performance.now()
    const deadline = started + this.#timeout
    for (let attempt = 1; ; attempt++) {
      while (write && this.#gate !== undefined) {
        if (performance.now() >= deadline) throw locked(name, started, attempt - 1)
        await this.#gate
      }
      if (this.#closed) throw new StoreUnavailableError(name, 'error', 'the store is closed')
      try {
        return work()
      } catch (error) {
        if (!isBusy(error)) throw unavailable(name, error)
        const pause = Math.min(FIRST_PAUSE * 2 ** (attempt - 1), MAX_PAUSE)
        if (attempt >= MAX_ATTEMPTS || performance.now() + pause >= deadline) {
          throw locked(name, started, attempt, error)
        }
        if (!write) await sleep(pause)
        else {
          this.#gate ??= sleep(pause).then(() => {
            this.#gate = undefined
          })
        }
      }
    }
  }
}

function locked(
  name: string,
  started: number,
  attempts: number,
  cause?: unknown,
): StoreUnavailableError {
  const waited = Math.round(performance.now() - started)
  return new StoreUnavailableError(
    name,
    'timeout',
    `the database stayed locked by another connection (${attempts} attempts in ${waited} ms)`,
    cause === undefined ? undefined : { cause },
  )
}

function unavailable(name: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  let detail = describe(error)
  if (/no such table/.test(detail)) {
    detail +=
      ' (create the schema: store.createSchema() or SqliteStore.migration(); checkSchema() at start-up finds this)'
  }
  return new StoreUnavailableError(name, 'error', detail, { cause: error })
}
