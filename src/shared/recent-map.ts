/**
 * A map that keeps about the `limit` most recently used entries, with constant work per call.
 *
 * Entries live in two generations: new ones go into the current one; when it holds `limit / 2`,
 * it becomes the previous one and the one before is dropped whole. A hit in the previous
 * generation moves the entry back into the current one, so entries in use survive every turn.
 * Dropping the oldest entry one by one from a single `Map` instead costs, once the map is full,
 * a scan over the deleted slots at its front on every insertion.
 */
export class RecentMap<K, V> {
  readonly #half: number
  #current = new Map<K, V>()
  #previous = new Map<K, V>()

  /** @param limit - the most entries held at once (at least 2). */
  constructor(limit: number) {
    this.#half = Math.max(1, Math.floor(limit / 2))
  }

  /** The entry for `key`, marked as recently used; `undefined` when not held. */
  get(key: K): V | undefined {
    const value = this.#current.get(key)
    if (value !== undefined) return value
    const old = this.#previous.get(key)
    if (old === undefined) return undefined
    this.#previous.delete(key)
    this.set(key, old)
    return old
  }

  set(key: K, value: V): void {
    const current = this.#current
    if (current.size >= this.#half && !current.has(key)) {
      this.#previous = current
      this.#current = new Map([[key, value]])
      return
    }
    current.set(key, value)
  }

  delete(key: K): void {
    this.#current.delete(key)
    this.#previous.delete(key)
  }

  /** How many entries are held (an entry in both generations counts twice). */
  get size(): number {
    return this.#current.size + this.#previous.size
  }
}
