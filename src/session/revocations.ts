import { pooledRandomBytes } from '../crypto/random.ts'
import { RevocationTable } from './revocation-table.ts'

/**
 * One revoked id: a sealed session's or a sealed remember-me token's, and when its entry may be
 * forgotten because the session or token cannot be valid after that anyway.
 */
export interface RevocationEntry {
  /** 22 base64url characters (128 random bits). */
  readonly id: string
  /** Seconds since the epoch: the session's absolute timeout, or the token's expiry. */
  readonly expiresAt: number
}

/** What {@link RevocationStore.load} returns. */
export interface RevocationBatch {
  /** Ids still revoked. They may include ids the caller already has. */
  readonly entries: readonly RevocationEntry[]
  /** Opaque: pass it to the next `load` to get only what was added since. */
  readonly cursor: string
  /**
   * The store lost what it held since the cursor was given (a Redis restarted without
   * persistence): the list writes back every id it holds.
   */
  readonly reset?: boolean | undefined
}

/** What a {@link RevocationStore} tells a subscribed list. */
export interface RevocationListener {
  /** Ids revoked by some instance (this one included), as they are added. */
  entries(entries: readonly RevocationEntry[]): void
  /** Messages may have been missed (the subscription was set up again): load what was added since. */
  gap(): void
  /** The subscription failed; the store keeps trying. Reported as a `storeError` event. */
  error(error: unknown): void
}

/**
 * Where a revocation list is shared, so that a logout on one instance is honoured by every
 * instance and survives a restart: `RedisRevocationStore` (`login-manager/redis`), or
 * `MemoryRevocationStore` for managers of one process. The list always answers from its own
 * memory; the store is written through, read at start-up and on each resync, and, when it can,
 * pushes what other instances revoke.
 */
export interface RevocationStore {
  /** Records ids as revoked. Rejects when the store fails; the list keeps them and retries. */
  add(entries: readonly RevocationEntry[]): Promise<void>
  /**
   * The ids still revoked: all of them without a `cursor`, else at least those added since the
   * `load` that returned it. A store that cannot tell may return everything.
   */
  load(cursor?: string): Promise<RevocationBatch>
  /**
   * Pushes what any instance revokes to `listener` until the returned function is called.
   * Optional: without it, instances learn of each other's revocations at each resync.
   */
  subscribe?(listener: RevocationListener): () => Promise<void>
}

/** Settings of a {@link RevocationList}, resolved from `LoginManagerOptions.revocation`. */
export interface RevocationListSettings {
  readonly store: RevocationStore | undefined
  /** Most ids kept in memory. */
  readonly maxEntries: number
  /** Seconds between loads of what other instances revoked, and retries of failed writes. */
  readonly resyncInterval: number
  /** Milliseconds since the epoch. */
  readonly now: () => number
  /** Reports a store failure or a full list (the manager's `storeError` event). */
  readonly onError: (operation: string, error: unknown) => void
}

/** The shape of every id the list holds: 16 bytes in base64url (the last 4 bits are zero). */
export const REVOCATION_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/

/** A new random id for a sealed session or remember-me token: 128 bits, base64url. */
export function newRevocationId(): string {
  return pooledRandomBytes(16).toString('base64url')
}

/** Ids written to the store in one call at most. */
const WRITE_CHUNK = 1000
/** The first retry of a failed write, in milliseconds; each later one waits twice as long. */
const FIRST_RETRY_MS = 250
/** After a gap, one more load this much later, for messages sent while the client resubscribed. */
const GAP_RELOAD_MS = 1000
/** A full list is reported at most this often (milliseconds). */
const FULL_REPORT_MS = 60_000
/** Expired entries are dropped at most this often (seconds): until then they cost a slot only. */
const PRUNE_EVERY = 60
/** A full list drops this share of its entries at once, so it is not full again at once. */
const DROP_SHARE = 0.01

/**
 * The ids of sealed sessions and remember-me tokens that ended before their timeout (logout,
 * rotation, a login as someone else), each kept until that timeout. {@link has} is what every
 * request that reads a sealed cookie asks: a map lookup in memory, never I/O.
 *
 * With a store, the list writes each revocation through (retrying while the store is down),
 * loads the store's list at start-up ({@link ready}), learns other instances' revocations from
 * the store's push messages, and reloads what was added every `resyncInterval`, so a missed
 * message or a reconnection never leaves an ended id accepted for long.
 *
 * Memory is bounded by `maxEntries`: when full, the ids closest to their timeout are dropped
 * first (and a `storeError` with operation `revocation.full` is reported). The ids live in one
 * typed array ({@link RevocationTable}), which the garbage collector does not walk.
 */
export class RevocationList {
  readonly #table = new RevocationTable()
  #nextPrune = 0
  /** Revocations of this instance not yet in the store. */
  readonly #pending = new Map<string, number>()
  readonly #settings: RevocationListSettings
  readonly #store: RevocationStore | undefined
  readonly #ready: Promise<void>
  #cursor: string | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #retry: ReturnType<typeof setTimeout> | undefined
  #retryDelay = FIRST_RETRY_MS
  #flushing: Promise<void> | undefined
  #syncing: Promise<void> | undefined
  #unsubscribe: (() => Promise<void>) | undefined
  #lastFullReport = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(settings: RevocationListSettings) {
    this.#settings = settings
    this.#store = settings.store
    if (this.#store === undefined) {
      this.#ready = Promise.resolve()
      return
    }
    this.#ready = this.#start(this.#store)
    // Apps that never await ready() must not see an unhandled rejection; those that do get it.
    this.#ready.catch(() => {})
  }

  /** True when `id` was revoked (an entry past its expiry may linger a minute: harmless). */
  has(id: string): boolean {
    return this.#table.has(id)
  }

  /** How many ids the list holds. */
  get size(): number {
    return this.#table.size
  }

  /** How many of this instance's revocations have not reached the store yet. */
  get unsent(): number {
    return this.#pending.size
  }

  /**
   * Revokes `id` until `expiresAt` (seconds since the epoch): here at once, in the store as soon
   * as it answers. An entry already past its expiry is not kept.
   */
  revoke(id: string, expiresAt: number): void {
    if (!this.#put(id, expiresAt) || this.#store === undefined || this.#closed) return
    this.#pending.set(id, this.#table.expiryOf(id))
    // A long outage must not grow this without bound either: the oldest unsent go first.
    if (this.#pending.size > this.#settings.maxEntries) {
      this.#pending.delete(this.#pending.keys().next().value as string)
    }
    this.#flushSoon()
  }

  /**
   * Resolves once the list holds what the store held at start-up (at once without a store).
   * Rejects with the store's error when that first load fails; the list keeps trying.
   */
  ready(): Promise<void> {
    return this.#ready
  }

  /** Stops syncing and unsubscribes, after one last attempt to write what is still unsent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    clearTimeout(this.#retry)
    this.#retry = undefined
    await this.#flushing
    if (this.#pending.size > 0) await this.#flush()
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    await unsubscribe?.().catch((error: unknown) =>
      this.#settings.onError('revocation.subscribe', error),
    )
  }

  async #start(store: RevocationStore): Promise<void> {
    // Subscribe first: whatever is revoked while the list loads arrives as a message.
    this.#unsubscribe = store.subscribe?.({
      entries: (entries) => this.#merge(entries),
      gap: () => {
        this.#syncSoon()
        setTimeout(() => this.#syncSoon(), GAP_RELOAD_MS).unref?.()
      },
      error: (error) => this.#settings.onError('revocation.subscribe', error),
    })
    this.#timer = setInterval(() => this.#tick(), this.#settings.resyncInterval * 1000)
    this.#timer.unref?.()
    await this.#sync()
  }

  #tick(): void {
    this.#prune(this.#nowSeconds())
    this.#syncSoon()
    if (this.#pending.size > 0 && this.#retry === undefined) this.#flushSoon()
  }

  #syncSoon(): void {
    if (this.#closed || this.#syncing !== undefined) return
    this.#sync().catch(() => {})
  }

  /** Loads what the store holds (everything the first time, then what was added since). */
  #sync(): Promise<void> {
    const store = this.#store as RevocationStore
    const run = (async () => {
      try {
        const batch = await store.load(this.#cursor)
        this.#merge(batch.entries)
        this.#cursor = batch.cursor
        if (batch.reset === true) this.#writeBack()
      } catch (error) {
        this.#settings.onError('revocation.load', error)
        throw error
      } finally {
        this.#syncing = undefined
      }
    })()
    this.#syncing = run
    return run
  }

  #merge(entries: readonly RevocationEntry[]): void {
    if (this.#closed) return
    for (const entry of entries) {
      if (typeof entry?.id === 'string' && REVOCATION_ID.test(entry.id)) {
        this.#put(entry.id, entry.expiresAt)
      }
    }
  }

  /** Queues every id held for writing, so that a store that lost them has them again. */
  #writeBack(): void {
    for (const [id, expiresAt] of this.#table.entries()) this.#pending.set(id, expiresAt)
    this.#flushSoon()
  }

  #flushSoon(): void {
    if (this.#flushing !== undefined || this.#closed) return
    this.#flushing = Promise.resolve()
      .then(() => this.#flush())
      .finally(() => {
        this.#flushing = undefined
        // Revoked while the write was on its way: write those too (unless waiting to retry).
        if (this.#pending.size > 0 && this.#retry === undefined) this.#flushSoon()
      })
  }

  /** Writes unsent revocations; on failure, keeps them and retries later, backing off. */
  async #flush(): Promise<void> {
    const store = this.#store
    if (store === undefined) return
    const now = this.#nowSeconds()
    const batch: RevocationEntry[] = []
    for (const [id, expiresAt] of this.#pending) {
      if (expiresAt <= now) this.#pending.delete(id)
      else batch.push({ id, expiresAt })
      if (batch.length === WRITE_CHUNK) break
    }
    if (batch.length === 0) return
    try {
      await store.add(batch)
    } catch (error) {
      this.#settings.onError('revocation.add', error)
      if (!this.#closed) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined
          this.#flushSoon()
        }, this.#retryDelay)
        this.#retry.unref?.()
        this.#retryDelay = Math.min(this.#retryDelay * 2, this.#settings.resyncInterval * 1000)
      }
      return
    }
    this.#retryDelay = FIRST_RETRY_MS
    for (const { id, expiresAt } of batch) {
      if (this.#pending.get(id) === expiresAt) this.#pending.delete(id)
    }
  }

  /** Adds or extends an entry; false when nothing changed (known already, or already expired). */
  #put(id: string, expiresAt: number): boolean {
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return false
    const now = this.#nowSeconds()
    if (expiresAt <= now) return false
    this.#prune(now)
    if (this.#table.expiryOf(id) >= expiresAt || !this.#table.put(id, expiresAt)) return false
    const max = this.#settings.maxEntries
    if (this.#table.size > max) {
      const excess = this.#table.size - max
      this.#table.dropSoonest(Math.max(excess, Math.floor(max * DROP_SHARE)))
      this.#reportFull()
    }
    return true
  }

  #prune(now: number): void {
    if (now < this.#nextPrune) return
    this.#nextPrune = now + PRUNE_EVERY
    this.#table.prune(now)
  }

  #reportFull(): void {
    const at = this.#settings.now()
    if (at - this.#lastFullReport < FULL_REPORT_MS) return
    this.#lastFullReport = at
    this.#settings.onError(
      'revocation.full',
      new Error(
        `the revocation list is full (revocation.maxEntries = ${this.#settings.maxEntries}): the ids closest to their timeout were dropped, so copies of those sessions work again until then; raise maxEntries or shorten session.absoluteTimeout and remember.duration`,
      ),
    )
  }

  #nowSeconds(): number {
    return Math.floor(this.#settings.now() / 1000)
  }
}
