/**
 * A server-side session store: a small, async key → fields map with expiry, a per-user index,
 * and conditional writes. login-manager decides every key and field; a store only keeps them.
 * `MemoryStore` (one process, tests) and `RedisStore` (`login-manager/redis`) implement it, and
 * `runStoreConformance` (`login-manager/testing`) checks any other implementation.
 *
 * Keys arrive already hashed (session ids are never stored in the clear) and carry a Redis
 * Cluster hash tag (`lm:{tag}:…`) shared by a user's sessions, remember-me tokens and index.
 */
export interface SessionStore {
  /** Every field of a record, or `null` when it does not exist or has expired. */
  get(key: string): Promise<Record<string, string> | null>
  /**
   * Writes a record, if its conditions hold: in `create` mode only if the key does not exist, in
   * `update` mode only if it does (so a request still in flight can never bring back a session
   * that was destroyed or rotated meanwhile); then only if every field named in `expect` holds
   * exactly that value, and only if the key named in `requires` exists. Returns whether the
   * write happened; when it did not, nothing at all changed (fields, expiry, index, replaced key).
   *
   * The conditions and the whole write (fields, removals, expiry, index, replaced key) are one
   * atomic step where the store can make it so (for `RedisStore`: always, except for keys in
   * different Redis Cluster slots in cluster mode). Whatever runs concurrently on the same keys
   * happens wholly before or wholly after it.
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
   * and returns how many were destroyed. It need not be atomic: a record added to the index while
   * it runs may survive (login-manager repeats it until a pass destroys nothing).
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
  /**
   * A key to destroy in the same step (session rotation), removed from `replacesIndex` too. A
   * missing replaced key does not stop the write; name it in `requires` as well for that.
   */
  readonly replaces?: string | undefined
  readonly replacesIndex?: string | undefined
  /**
   * Compare-and-set, `update` mode only (a `create` with `expect` is a `RangeError`): the write
   * happens only if each of these fields of the record currently holds exactly this value. A
   * missing field matches no value. login-manager rotates a remember-me token this way, on the
   * validator hash it read, so that two requests racing with one token cannot both rotate it.
   */
  readonly expect?: Readonly<Record<string, string>> | undefined
  /**
   * Another key that must exist for the write to happen, checked in the same atomic step: a
   * session restored from a remember-me token requires the token, and a session moving to a new
   * id (other than by a new login) requires the record it replaces, so neither can be written
   * once "log out everywhere", a revocation or a logout has destroyed what it stands on. It
   * carries the written key's hash tag (the same Redis Cluster slot), except just after a secret
   * rotation.
   */
  readonly requires?: string | undefined
}
