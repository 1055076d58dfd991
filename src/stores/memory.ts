import type { SessionStore, StoreWrite } from '../session/store.ts'
import { LoginManagerError } from '../shared/errors.ts'

/**
 * Options of {@link MemoryStore}.
 *
 * @example
 * ```ts
 * const clock = { now: Date.now() }
 * const store = new MemoryStore({ maxEntries: 1_000, now: () => clock.now })
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * The most records kept at once. When a new record would pass it, the record closest to its
   * expiry is evicted first (which, with the same ttl everywhere, is the least recently written or
   * touched one). An evicted session is logged out.
   * @default 10_000
   */
  readonly maxEntries?: number | undefined
  /** The clock, in milliseconds (tests pass a fake one to travel in time). @default Date.now */
  readonly now?: (() => number) | undefined
}

interface Entry {
  fields: Record<string, string>
  expiresAt: number
  /** The indexes this record was added to, so its removal also removes it from them. */
  indexes: Set<string> | undefined
}

interface HeapNode {
  readonly at: number
  readonly key: string
  readonly entry: Entry
}

/**
 * A {@link SessionStore} in the process's memory: for a single process, development and tests.
 * Sessions are lost on restart and are not shared between processes or machines; use
 * `RedisStore` (`login-manager/redis`) for those.
 *
 * - **Bounded**: at most `maxEntries` records; when full, the record closest to expiry is evicted.
 * - **Expiry** is checked on every read, so an expired record is never returned. Expired records
 *   are swept lazily on writes (cheaply: they are kept in a heap ordered by expiry); no timer is
 *   started, so the store never keeps the process alive.
 * - **Copies**: fields are copied on write and on read; callers cannot change what is stored.
 * - **Atomic**: every operation runs to completion without yielding, conditions included
 *   (`expect`, `requires`).
 * - Indexes are sets whose lifetime is that of their longest-living member. A record that
 *   disappears (destroyed, replaced, expired or evicted) leaves every index it was in.
 * - TTLs are whole seconds, at least 1 (a fractional ttl is rounded up), exactly as in
 *   `RedisStore`. A record without fields does not exist (as in Redis): an update that removes
 *   every field deletes the record.
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ maxEntries: 50_000 })
 * await store.write('lm:{u1}:s:abc', { mode: 'create', set: { u: '1' }, ttl: 3600 })
 * await store.get('lm:{u1}:s:abc') // { u: '1' }
 * ```
 *
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` from the constructor when `maxEntries` is not a
 * positive integer or `now` is not a function.
 */
export class MemoryStore implements SessionStore {
  readonly #records = new Map<string, Entry>()
  readonly #indexes = new Map<string, Set<string>>()
  readonly #heap: HeapNode[] = []
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: MemoryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `MemoryStore maxEntries must be a positive integer, got ${String(maxEntries)}`,
      )
    }
    const now = options.now ?? Date.now
    if (typeof now !== 'function') {
      throw new LoginManagerError('ERR_INVALID_OPTION', 'MemoryStore now must be a function')
    }
    this.#maxEntries = maxEntries
    this.#now = now
  }

  /**
   * How many records the store holds right now, including expired ones not swept yet (they are
   * swept on the next write, and never returned).
   *
   * @example
   * ```ts
   * assert.equal(store.size, 0)
   * ```
   *
   * @throws Never.
   */
  get size(): number {
    return this.#records.size
  }

  /**
   * Every field of a record (a copy), or `null` when it does not exist or has expired.
   *
   * @example
   * ```ts
   * const fields = await store.get('lm:{u1}:s:…')
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async get(key: string): Promise<Record<string, string> | null> {
    const entry = this.#live(key, this.#now())
    return entry === undefined ? null : copy(entry.fields)
  }

  /**
   * A conditional write: `create` only when the key is absent, `update` only when it exists,
   * and in both cases only when the fields in `expect` hold those values and the key in
   * `requires` exists. Returns whether it happened; when it did not, nothing at all changed (no
   * index entry, the replaced key kept).
   *
   * @example
   * ```ts
   * await store.write(newKey, { mode: 'create', set: { u: '42' }, ttl: 3600, index, replaces: oldKey, replacesIndex: index, requires: oldKey })
   * await store.write(tokenKey, { mode: 'update', set: { h: next }, ttl: 3600, expect: { h: read } })
   * ```
   *
   * @throws {RangeError} (as a rejection) when `ttl` is not a finite number, `mode` is unknown,
   * a `create` has no field to set, or a `create` has `expect`.
   */
  async write(key: string, write: StoreWrite): Promise<boolean> {
    const ttl = wholeSeconds(write.ttl, 'write')
    checkWrite(write)
    const now = this.#now()
    this.#sweep(now)
    let entry = this.#live(key, now)
    if (write.requires !== undefined && this.#live(write.requires, now) === undefined) return false
    if (write.mode === 'create') {
      if (entry !== undefined) return false
      // The old record goes first, so that making room never evicts an innocent record for it.
      this.#replace(key, write)
      this.#makeRoom()
      entry = { fields: copy(write.set), expiresAt: now + ttl * 1000, indexes: undefined }
      this.#records.set(key, entry)
    } else {
      if (entry === undefined || !matches(entry.fields, write.expect)) return false
      this.#replace(key, write)
      for (const [field, value] of Object.entries(write.set)) entry.fields[field] = value
      for (const field of write.remove ?? []) delete entry.fields[field]
      if (Object.keys(entry.fields).length === 0) {
        this.#remove(key, entry)
        return true
      }
      entry.expiresAt = now + ttl * 1000
    }
    this.#schedule(key, entry)
    if (write.index !== undefined) this.#addToIndex(key, entry, write.index)
    return true
  }

  /**
   * Extends a record's expiry to `ttl` seconds from now and sets `fields`, only if it still
   * exists. Returns whether it existed.
   *
   * @example
   * ```ts
   * await store.touch(key, 1800, { t: String(now) })
   * ```
   *
   * @throws {RangeError} (as a rejection) when `ttl` is not a finite number.
   */
  async touch(
    key: string,
    ttl: number,
    fields?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const seconds = wholeSeconds(ttl, 'touch')
    const now = this.#now()
    this.#sweep(now)
    const entry = this.#live(key, now)
    if (entry === undefined) return false
    if (fields !== undefined) {
      for (const [field, value] of Object.entries(fields)) entry.fields[field] = value
    }
    entry.expiresAt = now + seconds * 1000
    this.#schedule(key, entry)
    return true
  }

  /**
   * Deletes a record and removes it from `index` (and from every other index it was in).
   * Deleting a missing key is not an error.
   *
   * @example
   * ```ts
   * await store.destroy(key, index)
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async destroy(key: string, index?: string): Promise<void> {
    const entry = this.#records.get(key)
    if (entry !== undefined) this.#remove(key, entry)
    if (index !== undefined) this.#removeFromIndex(index, key)
  }

  /**
   * The keys in an index whose records are still alive.
   *
   * @example
   * ```ts
   * const sessions = await store.members('lm:{u1}:idx')
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async members(index: string): Promise<string[]> {
    const set = this.#indexes.get(index)
    if (set === undefined) return []
    const now = this.#now()
    const alive: string[] = []
    for (const key of [...set]) {
      if (this.#live(key, now) !== undefined) alive.push(key)
      else this.#removeFromIndex(index, key)
    }
    return alive
  }

  /**
   * Destroys every living record of an index except those in `keep`; returns how many it
   * destroyed.
   *
   * @example
   * ```ts
   * const loggedOut = await store.destroyIndex(index, [currentKey])
   * ```
   *
   * @throws Never: the promise always resolves.
   */
  async destroyIndex(index: string, keep: readonly string[] = []): Promise<number> {
    const set = this.#indexes.get(index)
    if (set === undefined) return 0
    const kept = new Set(keep)
    const now = this.#now()
    let destroyed = 0
    for (const key of [...set]) {
      if (kept.has(key)) continue
      const entry = this.#live(key, now)
      if (entry !== undefined) {
        this.#remove(key, entry)
        destroyed++
      }
      this.#removeFromIndex(index, key)
    }
    return destroyed
  }

  /** The record if it exists and has not expired; an expired one is removed on the way. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#records.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#remove(key, entry)
      return undefined
    }
    return entry
  }

  #replace(key: string, write: StoreWrite): void {
    const old = write.replaces
    if (old === undefined || old === key) return
    const entry = this.#records.get(old)
    if (entry !== undefined) this.#remove(old, entry)
    if (write.replacesIndex !== undefined) this.#removeFromIndex(write.replacesIndex, old)
  }

  #remove(key: string, entry: Entry): void {
    this.#records.delete(key)
    for (const index of entry.indexes ?? []) this.#removeFromIndex(index, key)
  }

  #addToIndex(key: string, entry: Entry, index: string): void {
    let set = this.#indexes.get(index)
    if (set === undefined) {
      set = new Set()
      this.#indexes.set(index, set)
    }
    set.add(key)
    entry.indexes ??= new Set()
    entry.indexes.add(index)
  }

  #removeFromIndex(index: string, key: string): void {
    const set = this.#indexes.get(index)
    if (set === undefined) return
    set.delete(key)
    if (set.size === 0) this.#indexes.delete(index)
  }

  // The heap holds one node per (record, expiry) ever scheduled; a node is stale once its record
  // was removed or got a new expiry. Stale nodes are dropped when they reach the top, and the heap
  // is rebuilt when they outnumber the live ones, so its size stays proportional to the store's.

  #schedule(key: string, entry: Entry): void {
    // A rebuild covers every record, this one (already in place, with its new expiry) included.
    if (this.#heap.length > 2 * this.#records.size + 64) this.#rebuild()
    else push(this.#heap, { at: entry.expiresAt, key, entry })
  }

  #rebuild(): void {
    this.#heap.length = 0
    for (const [key, entry] of this.#records) push(this.#heap, { at: entry.expiresAt, key, entry })
  }

  #stale(node: HeapNode): boolean {
    return this.#records.get(node.key) !== node.entry || node.entry.expiresAt !== node.at
  }

  /** Removes the expired records (and stale heap nodes) from the top of the heap. */
  #sweep(now: number): void {
    for (let top = this.#heap[0]; top !== undefined; top = this.#heap[0]) {
      if (this.#stale(top)) pop(this.#heap)
      else if (top.at <= now) {
        pop(this.#heap)
        this.#remove(top.key, top.entry)
      } else return
    }
  }

  /** Evicts the records closest to expiry until one more fits. Call after {@link #sweep}. */
  #makeRoom(): void {
    while (this.#records.size >= this.#maxEntries) {
      const top = pop(this.#heap)
      if (top === undefined) return
      if (!this.#stale(top)) this.#remove(top.key, top.entry)
    }
  }
}

function copy(fields: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  for (const [field, value] of Object.entries(fields)) out[field] = value
  return out
}

function wholeSeconds(ttl: number, operation: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
    throw new RangeError(`MemoryStore.${operation}: ttl must be a finite number of seconds`)
  }
  return Math.max(1, Math.ceil(ttl))
}

function checkWrite(write: StoreWrite): void {
  if (write.mode !== 'create' && write.mode !== 'update') {
    throw new RangeError(`MemoryStore.write: mode must be 'create' or 'update'`)
  }
  if (write.mode === 'create' && Object.keys(write.set).length === 0) {
    throw new RangeError('MemoryStore.write: a created record needs at least one field')
  }
  if (write.mode === 'create' && write.expect !== undefined) {
    throw new RangeError('MemoryStore.write: `expect` applies to updates only')
  }
}

/** Whether every expected field holds exactly its value (a missing field matches nothing). */
function matches(
  fields: Readonly<Record<string, string>>,
  expect: Readonly<Record<string, string>> | undefined,
): boolean {
  if (expect === undefined) return true
  for (const [field, value] of Object.entries(expect)) {
    if (!Object.hasOwn(fields, field) || fields[field] !== value) return false
  }
  return true
}

function push(heap: HeapNode[], node: HeapNode): void {
  heap.push(node)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.at <= node.at) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = node
}

function pop(heap: HeapNode[]): HeapNode | undefined {
  const top = heap[0]
  const last = heap.pop()
  if (top === undefined || last === undefined || heap.length === 0) return top
  let i = 0
  for (;;) {
    const left = 2 * i + 1
    if (left >= heap.length) break
    const right = left + 1
    const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left
    if (heap[child]!.at >= last.at) break
    heap[i] = heap[child]!
    i = child
  }
  heap[i] = last
  return top
}
