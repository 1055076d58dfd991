import type {
  RevocationBatch,
  RevocationEntry,
  RevocationListener,
  RevocationStore,
} from '../session/revocations.ts'
import { LoginManagerError } from '../shared/errors.ts'

/** Options of {@link MemoryRevocationStore}. */
export interface MemoryRevocationStoreOptions {
  /** Most ids kept; past it, the oldest revocations are dropped. @default 1000000 */
  readonly maxEntries?: number | undefined
  /** Clock in milliseconds since the epoch (tests move it). @default Date.now */
  readonly now?: (() => number) | undefined
}

/**
 * A {@link RevocationStore} in this process's memory, for several managers of one process (and
 * for tests): a logout through one is pushed to the others at once. It is lost when the process
 * ends and is not seen by other processes; for those, use `RedisRevocationStore`
 * (`login-manager/redis`). A manager given no revocation store keeps its own list, which is the
 * same thing for one manager.
 *
 * @example
 * ```ts
 * const revocations = new MemoryRevocationStore()
 * const admin = new LoginManager({ secret, userLoader, revocation: { store: revocations } })
 * const shop = new LoginManager({ secret, userLoader, revocation: { store: revocations } })
 * ```
 *
 * @throws LoginManagerError `ERR_INVALID_OPTION` for a `maxEntries` that is not a positive integer.
 */
export class MemoryRevocationStore implements RevocationStore {
  /** id → expiry (seconds) and the sequence number of its last addition. */
  readonly #entries = new Map<string, { expiresAt: number; seq: number }>()
  readonly #listeners = new Set<RevocationListener>()
  readonly #max: number
  readonly #now: () => number
  #seq = 0

  constructor(options: MemoryRevocationStoreOptions = {}) {
    const max = options.maxEntries ?? 1_000_000
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `MemoryRevocationStore maxEntries: expected a positive integer, got ${String(max)}`,
      )
    }
    this.#max = max
    this.#now = options.now ?? Date.now
  }

  /** Records the entries and pushes them to every subscribed list. */
  async add(entries: readonly RevocationEntry[]): Promise<void> {
    const now = Math.floor(this.#now() / 1000)
    const added: RevocationEntry[] = []
    for (const { id, expiresAt } of entries) {
      if (!(expiresAt > now)) continue
      const known = this.#entries.get(id)
      // Re-inserted, so that the map's order stays the order of the last addition.
      this.#entries.delete(id)
      this.#entries.set(id, {
        expiresAt: Math.max(expiresAt, known?.expiresAt ?? 0),
        seq: ++this.#seq,
      })
      added.push({ id, expiresAt })
    }
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
    if (added.length === 0) return
    for (const listener of [...this.#listeners]) listener.entries(added)
  }

  /** The ids still revoked, added after `cursor` (all of them without one). */
  async load(cursor?: string): Promise<RevocationBatch> {
    const now = Math.floor(this.#now() / 1000)
    const since = cursor === undefined ? 0 : Number(cursor)
    const entries: RevocationEntry[] = []
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(id)
      else if (!(entry.seq <= since)) entries.push({ id, expiresAt: entry.expiresAt })
    }
    return { entries, cursor: String(this.#seq) }
  }

  /** Pushes every later addition to `listener` until the returned function is called. */
  subscribe(listener: RevocationListener): () => Promise<void> {
    this.#listeners.add(listener)
    return async () => {
      this.#listeners.delete(listener)
    }
  }
}
