/**
 * The ids of a revocation list, packed in one typed array: an open-addressing hash table whose
 * slots hold an id (22 base64url characters: 128 bits, as four 32-bit words) and its expiry
 * (seconds since the epoch). A million ids held as strings in a `Map` are a million objects that
 * every major garbage collection marks; here they are one buffer it does not look into, and a
 * lookup decodes the id and compares four numbers.
 *
 * Expiry words double as slot states: 0 is an empty slot, 1 a deleted one (a tombstone).
 */

/** Words per slot: four for the id, one for its expiry. */
const WORDS = 5
const EXPIRY = 4
const EMPTY = 0
const DELETED = 1
/** Slots in use (live or deleted) past this share of the table make it grow or rebuild. */
const MAX_LOAD = 0.75
/** A rebuilt table is at most this full. */
const REBUILT_LOAD = 0.5
const MIN_SLOTS = 1024

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const DIGIT = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i
const TWO_30 = 2 ** 30
const LOW_30 = TWO_30 - 1

/**
 * Decodes an id into `scratch` (reused: no allocation): characters 0–19 give four 30-bit
 * numbers, and the 8 bits of characters 20–21 (the last 4 bits of a 16-byte id's encoding are
 * zero) fill the top two bits of each. False when it is not such an id.
 */
const scratch = new Uint32Array(4)
function decode(id: string): boolean {
  if (id.length !== 22) return false
  let tail = 0
  for (let i = 20; i < 22; i++) {
    const code = id.charCodeAt(i)
    const digit = code < 128 ? (DIGIT[code] as number) : -1
    if (digit < 0) return false
    tail = tail * 64 + digit
  }
  if ((tail & 15) !== 0) return false
  tail >>= 4
  for (let w = 0; w < 4; w++) {
    let word = 0
    for (let i = w * 5; i < w * 5 + 5; i++) {
      const code = id.charCodeAt(i)
      const digit = code < 128 ? (DIGIT[code] as number) : -1
      if (digit < 0) return false
      word = word * 64 + digit
    }
    scratch[w] = word + ((tail >> (2 * w)) & 3) * TWO_30
  }
  return true
}

/** Characters 0–4 of an id as a 30-bit number (the low bits of its first word), or -1. */
function head(id: string): number {
  let word = 0
  for (let i = 0; i < 5; i++) {
    const code = id.charCodeAt(i)
    const digit = code < 128 ? (DIGIT[code] as number) : -1
    if (digit < 0) return -1
    word = word * 64 + digit
  }
  return word
}

function encode(words: Uint32Array, at: number): string {
  let id = ''
  let tail = 0
  for (let w = 0; w < 4; w++) {
    const value = words[at + w] as number
    tail += Math.floor(value / TWO_30) << (2 * w)
    let word = value % TWO_30
    let part = ''
    for (let i = 0; i < 5; i++) {
      part = ALPHABET[word % 64] + part
      word = Math.floor(word / 64)
    }
    id += part
  }
  tail <<= 4
  return id + ALPHABET[tail >> 6] + ALPHABET[tail & 63]
}

/** A set of ids with an expiry each; see the module comment. Not bounded by itself. */
export class RevocationTable {
  #slots: Uint32Array
  #mask: number
  #live = 0
  #deleted = 0
  /** No live entry expires before this (a lower bound): pruning before it finds nothing. */
  #soonest = Number.POSITIVE_INFINITY

  constructor() {
    this.#slots = new Uint32Array(MIN_SLOTS * WORDS)
    this.#mask = MIN_SLOTS - 1
  }

  /** How many ids it holds. */
  get size(): number {
    return this.#live
  }

  /** Bytes of its buffer. */
  get bytes(): number {
    return this.#slots.byteLength
  }

  /**
   * The expiry of `id` (seconds since the epoch), or 0 when it is not held. Most ids asked about
   * are not held: the probe compares the first five characters, and decodes the rest only when
   * those match.
   */
  expiryOf(id: string): number {
    if (this.#live === 0 || id.length !== 22) return 0
    const first = head(id)
    if (first < 0) return 0
    const slots = this.#slots
    let decoded = false
    for (let slot = first & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const at = slot * WORDS
      const state = slots[at + EXPIRY] as number
      if (state === EMPTY) return 0
      if (state === DELETED || ((slots[at] as number) & LOW_30) !== first) continue
      if (!decoded) {
        if (!decode(id)) return 0
        decoded = true
      }
      if (this.#same(at)) return state
    }
  }

  /** True when `id` is held. */
  has(id: string): boolean {
    return this.expiryOf(id) !== 0
  }

  /**
   * Holds `id` until `expiresAt` (seconds since the epoch), or later if it already was.
   * Returns false, holding nothing, for an id that is not 128 bits in base64url.
   */
  put(id: string, expiresAt: number): boolean {
    if (!decode(id)) return false
    if (this.#live + this.#deleted + 1 > (this.#mask + 1) * MAX_LOAD) this.#rebuild()
    const expiry = Math.min(Math.max(Math.floor(expiresAt), DELETED + 1), 0xffffffff)
    const slots = this.#slots
    let free = -1
    for (
      let slot = (scratch[0] as number) & LOW_30 & this.#mask;
      ;
      slot = (slot + 1) & this.#mask
    ) {
      const at = slot * WORDS
      const state = slots[at + EXPIRY] as number
      if (state === EMPTY) {
        const target = free < 0 ? at : free
        if (free >= 0) this.#deleted--
        slots.set(scratch, target)
        slots[target + EXPIRY] = expiry
        this.#live++
        if (expiry < this.#soonest) this.#soonest = expiry
        return true
      }
      if (state === DELETED) {
        if (free < 0) free = at
      } else if (this.#same(at)) {
        if (expiry > state) slots[at + EXPIRY] = expiry
        return true
      }
    }
  }

  /** Drops every entry whose expiry is at or before `now`; returns how many. */
  prune(now: number): number {
    return now < this.#soonest ? 0 : this.#dropUntil(now)
  }

  /**
   * Drops at least `count` of the entries that expire soonest (more when several expire in the
   * same second as the last of them); returns how many.
   */
  dropSoonest(count: number): number {
    if (count <= 0 || this.#live === 0) return 0
    if (count >= this.#live) return this.#dropUntil(0xffffffff)
    // Two counting passes instead of a sort: the hour of the count-th expiry, then its second.
    const base = this.#soonest
    const hours = new Uint32Array(10_000)
    this.#each((expiry) => {
      const hour = Math.min(Math.floor((expiry - base) / 3600), hours.length - 1)
      hours[hour] = (hours[hour] as number) + 1
    })
    let hour = 0
    for (let seen = 0; ; hour++) {
      seen += hours[hour] as number
      if (seen >= count) {
        count -= seen - (hours[hour] as number)
        break
      }
    }
    const from = base + hour * 3600
    const seconds = new Uint32Array(3600)
    this.#each((expiry) => {
      if (expiry >= from && expiry < from + 3600) {
        seconds[expiry - from] = (seconds[expiry - from] as number) + 1
      }
    })
    let second = 0
    for (let seen = 0; second < 3599; second++) {
      seen += seconds[second] as number
      if (seen >= count) break
    }
    return this.#dropUntil(hour === hours.length - 1 ? 0xffffffff : from + second)
  }

  /** Every id held, with its expiry. */
  *entries(): IterableIterator<[string, number]> {
    const slots = this.#slots
    for (let at = 0; at < slots.length; at += WORDS) {
      const state = slots[at + EXPIRY] as number
      if (state > DELETED) yield [encode(slots, at), state]
    }
  }

  #same(at: number): boolean {
    const slots = this.#slots
    return (
      slots[at] === scratch[0] &&
      slots[at + 1] === scratch[1] &&
      slots[at + 2] === scratch[2] &&
      slots[at + 3] === scratch[3]
    )
  }

  #each(visit: (expiry: number) => void): void {
    const slots = this.#slots
    for (let at = EXPIRY; at < slots.length; at += WORDS) {
      const state = slots[at] as number
      if (state > DELETED) visit(state)
    }
  }

  /** Drops the entries expiring at or before `until`. */
  #dropUntil(until: number): number {
    const slots = this.#slots
    let dropped = 0
    let soonest = Number.POSITIVE_INFINITY
    for (let at = EXPIRY; at < slots.length; at += WORDS) {
      const state = slots[at] as number
      if (state <= DELETED) continue
      if (state <= until) {
        slots[at] = DELETED
        dropped++
      } else if (state < soonest) {
        soonest = state
      }
    }
    this.#live -= dropped
    this.#deleted += dropped
    this.#soonest = soonest
    if (this.#deleted > (this.#mask + 1) / 4) this.#rebuild()
    return dropped
  }

  /** Rebuilds the table without deleted slots, sized so it is at most half full. */
  #rebuild(): void {
    const old = this.#slots
    let size = MIN_SLOTS
    while (this.#live + 1 > size * REBUILT_LOAD && size < 2 ** 30) size *= 2
    const slots = new Uint32Array(size * WORDS)
    const mask = size - 1
    for (let at = 0; at < old.length; at += WORDS) {
      if ((old[at + EXPIRY] as number) <= DELETED) continue
      let slot = (old[at] as number) & LOW_30 & mask
      while (slots[slot * WORDS + EXPIRY] !== EMPTY) slot = (slot + 1) & mask
      slots.set(old.subarray(at, at + WORDS), slot * WORDS)
    }
    this.#slots = slots
    this.#mask = mask
    this.#deleted = 0
  }
}
