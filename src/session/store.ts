/**
 * A server-side session store: a small, async key → fields map with expiry, a per-user index,
 * and conditional writes. login-manager decides every key and field; a store only keeps them.
 * `MemoryStore` (one process, tests) and `RedisStore` (`login-manager/redis`) implement it, and
 * `runStoreConformance` (`login-manager/testing`) checks any other implementation.
 *
 * Keys arrive already hashed (session ids are never stored in the clear) and carry a Redis
 * Cluster hash tag (`lm:{tag}:…`) shared by a user's sessions and their index.
 */
export interface SessionStore {
  /** Every field of a record, or `null` when it does not exist or has expired. */
  get(key: string): Promise<Record<string, string> | null>
  /**
   * Writes a record. In `create` mode the write happens only if the key does not exist; in
   * `update` mode only if it does — so a request still in flight can never bring back a session
   * that was destroyed or rotated meanwhile. Returns whether the write happened. The whole write
   * (fields, removals, expiry, index, replaced key) is atomic where the store can make it so.
   */
  write(key: string, write: StoreWrite): Promise<boolean>
  /**
   * Extends an existing record's expiry to `ttl` seconds from now and sets `fields` on it, only
   * if it still exists (rolling expiry). Returns whether the record existed.
   */
  touch(key: string, ttl: number, fields?: Readonly<Record<string, string>>): Promise<boolean>
  /** Deletes a record and removes it from `index`. Deleting a missing key is not an error. */
  destroy(key: string, index?: string): Promise<void>
  /** The keys listed in an index whose records still exist; entries of expired records are dropped. */
  members(index: string): Promise<string[]>
  /**
   * Destroys every record listed in an index except those in `keep`, removes them from the index,
   * and returns how many were destroyed.
   */
  destroyIndex(index: string, keep?: readonly string[]): Promise<number>
}

/** One conditional write; see {@link SessionStore.write}. */
export interface StoreWrite {
  /** `create`: only when the key is absent; `update`: only when it exists. */
  readonly mode: 'create' | 'update'
  /** Fields to set. */
  readonly set: Readonly<Record<string, string>>
  /** Fields to delete (meaningful in `update` mode). */
  readonly remove?: readonly string[] | undefined
  /** Seconds until the record expires, counted from now. */
  readonly ttl: number
  /** An index to add the key to; the index then lives at least as long as the record. */
  readonly index?: string | undefined
  /** A key to destroy in the same step (session rotation), removed from `replacesIndex` too. */
  readonly replaces?: string | undefined
  readonly replacesIndex?: string | undefined
}
