import { type Deadlines, StoreUnavailableError } from '../unavailable.ts'
import type { SchemaNames } from './schema.ts'

// How PostgresStore's operations fail: the deadline of each, the retries of serialization
// failures and deadlocks, and the StoreUnavailableError that every other failure becomes.

/** Attempts of one operation that hits a serialization failure or a deadlock. */
const ATTEMPTS = 3
const RETRYABLE = new Set(['40001', '40P01'])

/** What {@link runOperation} needs of the store: its deadlines and names, for the errors. */
export interface OperationLimits {
  readonly deadlines: Deadlines | undefined
  readonly timeout: number
  readonly names: SchemaNames
}

/**
 * Runs an operation under `commandTimeout`, retrying serialization failures and deadlocks
 * (`retry`), turning every failure into a StoreUnavailableError.
 */
export function runOperation<T>(
  name: string,
  work: () => Promise<T>,
  retry: boolean,
  limits: OperationLimits,
): Promise<T> {
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
  const deadlines = limits.deadlines
  if (deadlines === undefined) {
    return attempts().catch((error: unknown) => {
      throw unavailable(name, error, limits.names)
    })
  }
  return new Promise<T>((resolve, reject) => {
    const entry = deadlines.add(() =>
      reject(
        new StoreUnavailableError(
          name,
          'timeout',
          `no answer from PostgreSQL within ${limits.timeout} ms`,
        ),
      ),
    )
    // Once timed out, a late answer or failure is dropped (never an unhandled rejection).
    attempts().then(
      (value) => {
        if (deadlines.settle(entry)) resolve(value)
      },
      (error: unknown) => {
        if (deadlines.settle(entry)) reject(unavailable(name, error, limits.names))
      },
    )
  })
}

export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

/** The StoreUnavailableError for a failure: timeouts told apart, missing tables explained. */
export function unavailable(
  operation: string,
  error: unknown,
  names: SchemaNames,
): StoreUnavailableError {
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
