import type { UserId } from '../shared/types.ts'
import { type Flash, queueFlash } from './flash-queue.ts'

export type { Flash }

/**
 * Login state kept beside (never inside) the app's data, so app code cannot clobber it by
 * accident and strong session protection can drop it while keeping the app's keys.
 * @internal
 */
export interface AuthState {
  userId?: UserId
  fresh?: boolean
  /** Session-protection identifier; `null` binds to the first client that uses the session (test helper). */
  identifier?: string | null
  /** A per-login remember duration, in seconds. */
  rememberSeconds?: number
  /** The user's `sessionVersion` at login. */
  version?: string | number
  /** Return URL kept by `useSessionForNext`. */
  next?: string
}

/** @internal What a request changed in a session (see {@link Session._changes}). */
export interface SessionChanges {
  readonly set: Set<string>
  readonly removed: Set<string>
  auth: boolean
  flashes: boolean
  permanent: boolean
}

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    throw new TypeError('session key: expected a non-empty string')
  }
  if (RESERVED_KEYS.has(key)) throw new TypeError(`session key: '${key}' is reserved`)
}

function checkValue(key: string, value: unknown): void {
  const type = typeof value
  if (type === 'function' || type === 'symbol' || type === 'bigint') {
    throw new TypeError(`session value for '${key}': ${type}s cannot be stored (values are JSON)`)
  }
  if (type === 'object' && value !== null) {
    // Fail here, where the mistake is, rather than when the response is sent: nested bigints
    // and cycles cannot be encoded.
    try {
      JSON.stringify(value)
    } catch (error) {
      throw new TypeError(
        `session value for '${key}': not JSON-encodable (${(error as Error).message})`,
      )
    }
  }
}

/**
 * The per-request session bag (Flask's `session`): JSON values by key, a `permanent` flag, change
 * tracking and flash messages. Changes are written back only when something changed: reading,
 * or removing a key that is absent, leaves the response without a `Set-Cookie`.
 *
 * @example
 * ```ts
 * const session = req.auth.session
 * session.set('theme', 'dark')
 * session.flash('Saved!', 'success')
 * ```
 */
export class Session<Data extends object = Record<string, unknown>> {
  // Sessions decoded from a cookie share their login state, flashes and encoded data with the
  // backend's cache (the same cookie value comes back on every request): each is copied only when
  // this request changes it, so a request that only reads the login allocates almost nothing.
  #data: Record<string, unknown> | undefined
  /** The data as JSON, parsed on first access (`undefined`: no data, or already parsed). */
  #dataJson: string | undefined
  #changes: SessionChanges | undefined
  /** @internal */ _auth: AuthState
  /** @internal */ _flashes: Flash[]
  /** @internal */ _permanent: boolean
  /** @internal */ _modified = false
  /** @internal Seconds since the epoch. */ _createdAt: number
  /** @internal Seconds since the epoch. */ _lastActive: number
  /** @internal True when no valid cookie backed this session. */ _isNew: boolean
  /** @internal Set when login, logout or re-authentication asks for a new session (new id / seal). */ _rotate = false
  /** @internal Where a store keeps this session (id and hash tag); absent for cookie sessions. */
  _handle: { readonly id: string; readonly tag: string } | undefined
  /** @internal A sealed session's id (revocation list); a new one is made when it rotates. */
  _sid: string | undefined

  /**
   * @internal `data` is taken over (not copied); `auth` and `flashes` are copied, so an init
   * kept in a cache is never changed through the session it made.
   */
  constructor(init: {
    data?: Record<string, unknown> | undefined
    dataJson?: string | undefined
    auth?: AuthState | undefined
    flashes?: Flash[] | undefined
    permanent?: boolean | undefined
    createdAt: number
    lastActive: number
    /** True when no valid cookie backed this session. @default false */
    isNew?: boolean | undefined
    handle?: { readonly id: string; readonly tag: string } | undefined
    sid?: string | undefined
  }) {
    this.#data = init.data
    this.#dataJson = init.data === undefined ? init.dataJson : undefined
    this._auth = init.auth === undefined ? {} : { ...init.auth }
    this._flashes =
      init.flashes === undefined || init.flashes.length === 0 ? [] : init.flashes.slice()
    this._permanent = init.permanent === true
    this._createdAt = init.createdAt
    this._lastActive = init.lastActive
    this._isNew = init.isNew === true
    this._handle = init.handle
    this._sid = init.sid
  }

  /** @internal The app's data (a null-prototype object owned by this session). */
  get _data(): Record<string, unknown> {
    if (this.#data === undefined) {
      const json = this.#dataJson
      this.#dataJson = undefined
      this.#data =
        json === undefined
          ? Object.create(null)
          : (Object.setPrototypeOf(JSON.parse(json), null) as Record<string, unknown>)
    }
    return this.#data as Record<string, unknown>
  }

  /**
   * @internal What changed, so a store can write only that (two requests changing different
   * keys of one session both persist): data keys set or removed, and the meta parts.
   */
  get _changes(): SessionChanges {
    if (this.#changes === undefined) {
      this.#changes = {
        set: new Set<string>(),
        removed: new Set<string>(),
        auth: false,
        flashes: false,
        permanent: false,
      }
    }
    return this.#changes
  }

  /** True when data is stored, without decoding it. */
  #hasData(): boolean {
    if (this.#dataJson !== undefined) return true
    for (const _ in this.#data) return true
    return false
  }

  /** The value stored under `key`, or `undefined`. Mutating a returned object needs {@link markModified}. */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    return this._data[key] as Data[K] | undefined
  }

  /**
   * Stores a JSON value; `undefined` deletes the key.
   * @throws TypeError for a reserved key (`__proto__`, `constructor`, `prototype`) or a function, symbol or bigint value.
   */
  set<K extends keyof Data & string>(key: K, value: Data[K]): void {
    checkKey(key)
    if (value === undefined) {
      this.delete(key)
      return
    }
    checkValue(key, value)
    this._data[key] = value
    this._changes.set.add(key)
    this._changes.removed.delete(key)
    this._modified = true
  }

  /** True when `key` is stored. */
  has(key: string): boolean {
    return key in this._data
  }

  /** Removes `key`; returns whether it was there. Removing an absent key changes nothing. */
  delete(key: string): boolean {
    if (!(key in this._data)) return false
    delete this._data[key]
    this._changes.set.delete(key)
    this._changes.removed.add(key)
    this._modified = true
    return true
  }

  /** Every stored key. */
  keys(): string[] {
    return Object.keys(this._data)
  }

  /**
   * Empties the session entirely — app data, flashes, the login and `permanent` (like Flask's
   * `session.clear()`, which drops `_permanent` with the rest).
   */
  clear(): void {
    this.permanent = false
    if (this.isEmpty) return
    this._dropData()
    this._auth = {}
    this._flashes = []
    this._changes.auth = true
    this._changes.flashes = true
    this._modified = true
  }

  /** True when nothing at all is stored (no data, no login, no flashes). */
  get isEmpty(): boolean {
    if (this.#hasData()) return false
    for (const _ in this._auth) return false
    return this._flashes.length === 0
  }

  /** A permanent session survives a browser restart until its timeouts; otherwise the cookie lasts the browser session. */
  get permanent(): boolean {
    return this._permanent
  }
  set permanent(value: boolean) {
    if (value === this._permanent) return
    this._permanent = value === true
    this._changes.permanent = true
    this._modified = true
  }

  /** True once something changed in this request. */
  get modified(): boolean {
    return this._modified
  }

  /** Marks the session changed after mutating an object obtained from {@link get}. */
  markModified(): void {
    // Which value was mutated is unknown: a store rewrites them all.
    for (const key of Object.keys(this._data)) this._changes.set.add(key)
    this._modified = true
  }

  /**
   * Queues a message for the next page (Flask's `flash`). The queue is bounded so that it can
   * never outgrow the session: at most 32 messages and 1536 bytes of JSON, the oldest dropped
   * first; a message already queued (same category and text) is kept once, as the newest; a
   * single message over the budget is shortened, ending with `…`.
   * @default category 'message'
   */
  flash(message: string, category = 'message'): void {
    if (typeof message !== 'string') throw new TypeError('flash: message must be a string')
    queueFlash(this._flashes, String(category), message)
    this._changes.flashes = true
    this._modified = true
  }

  /**
   * Returns and removes the queued messages — all of them, or those of one category (others stay
   * queued). Flask's `get_flashed_messages(with_categories=True)`.
   */
  consumeFlashes(category?: string): Flash[] {
    if (this._flashes.length === 0) return []
    if (category === undefined) {
      const all = this._flashes
      this._flashes = []
      this._changes.flashes = true
      this._modified = true
      return all
    }
    const taken = this._flashes.filter((f) => f.category === category)
    if (taken.length > 0) {
      this._flashes = this._flashes.filter((f) => f.category !== category)
      this._changes.flashes = true
      this._modified = true
    }
    return taken
  }

  /** @internal Replaces the login state, marking the session changed. */
  _setAuth(next: AuthState): void {
    this._auth = next
    this._changes.auth = true
    this._modified = true
  }

  /** @internal Updates some login fields, marking the session changed only if a value differs. */
  _patchAuth(patch: { [K in keyof AuthState]?: AuthState[K] | undefined }): void {
    for (const key of Object.keys(patch) as (keyof AuthState)[]) {
      const value = patch[key]
      if (this._auth[key] === value) continue
      if (value === undefined) delete this._auth[key]
      else (this._auth as Record<string, unknown>)[key] = value
      this._changes.auth = true
      this._modified = true
    }
  }

  /** @internal Removes every data key (recorded as removals, for stores). */
  _dropData(): void {
    for (const key of Object.keys(this._data)) {
      this._changes.removed.add(key)
      this._changes.set.delete(key)
    }
    this.#data = Object.create(null)
    this._modified = true
  }
}
