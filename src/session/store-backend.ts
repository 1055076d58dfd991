import type { LoadResult, SaveResult, SessionBackend } from './backend.ts'
import { cacheKeyOf } from './cookie-backend.ts'
import type { Session } from './session.ts'
import type { SessionStore } from './store.ts'
import { randomId, randomTag, type StoreKeys } from './store-keys.ts'
import {
  changedFields,
  checkRecord,
  decodeFields,
  encodeFields,
  type RecordInfo,
  sizeIn,
} from './store-record.ts'

// Read by the devices list, which decodes records itself; it stays importable from here.
export { decodeFields } from './store-record.ts'

/** A verified session cookie: where its session lives. */
interface Opened {
  readonly value: string
  readonly handle: { readonly id: string; readonly tag: string }
  readonly key: string
  readonly rotated: boolean
}

const OPENED_LIMIT = 10_000

/** The handle of a session this backend loaded: it carries the record the session came from. */
interface LoadedHandle {
  readonly id: string
  readonly tag: string
  readonly record: RecordInfo
}

/** Session timeouts in seconds, for the store's TTL. */
export interface StoreTimeouts {
  readonly idleTimeout: number
  readonly absoluteTimeout: number
}

/**
 * Server-side sessions: the cookie carries a signed random id and hash tag; the session lives in
 * a {@link SessionStore} under a hash of the id. Writes send only what changed and never
 * recreate a session that is gone; login, logout and re-authentication move the session to a
 * new id and delete the old record in the same step.
 *
 * A logged-in session's record also names the remember-me token of its device (field `r`, the
 * token's store key), so that revoking the session can revoke the token: set at login and at a
 * restore from the token, carried over when the session moves to a new id without a new login.
 */
export class StoreSessionBackend implements SessionBackend {
  readonly sync = false
  readonly #store: SessionStore
  readonly #keys: StoreKeys
  readonly #timeouts: StoreTimeouts
  readonly #opened = new Map<number, Opened>()
  /**
   * The sessions that got a new login in this request (`linkRemember`), with their link to a
   * remember-me token: a store key, or `null` for "no token"; `required`: the session stands on
   * that token (restored from it) and must not be written once it is gone.
   */
  readonly #links = new WeakMap<Session<object>, { key: string | null; required: boolean }>()

  constructor(store: SessionStore, keys: StoreKeys, timeouts: StoreTimeouts) {
    this.#store = store
    this.#keys = keys
    this.#timeouts = timeouts
  }

  async load(cookieValue: string): Promise<LoadResult> {
    const opened = this.#open(cookieValue)
    if (opened === null) return { ok: false, reason: 'signature' }
    const fields = await this.#store.get(opened.key)
    if (fields === null) return { ok: false, reason: 'unknown-session' }
    const decoded = decodeFields(fields)
    if (decoded === null) {
      // A record that does not decode is no session. It is deleted, so that nothing later (a
      // logout, a new login on this device) trips over it; if that fails, its TTL ends it.
      await this.#store.destroy(opened.key, this.#keys.index(opened.handle.tag)).catch(() => {})
      return { ok: false, reason: 'malformed' }
    }
    const handle: LoadedHandle = {
      id: opened.handle.id,
      tag: opened.handle.tag,
      record: decoded.record,
    }
    decoded.init.handle = handle
    return { ok: true, init: decoded.init, rotated: opened.rotated }
  }

  /**
   * Verifies a session cookie and derives its store key. Browsers send the same value on every
   * request, so the result for values signed with the current key is remembered: the HMAC check
   * and the SHA-256 of the id then cost a map lookup. Keyed by a number mixed from the value's last
   * characters (its MAC), confirmed against the whole value.
   */
  #open(value: string): Opened | null {
    const cacheKey = cacheKeyOf(value)
    const cached = this.#opened.get(cacheKey)
    if (cached !== undefined && cached.value === value) return cached
    const opened = this.#keys.open(value, ['id', 'tag'])
    if (opened === null) return null
    const [id, tag] = opened.parts as [string, string]
    const result: Opened = {
      value,
      handle: Object.freeze({ id, tag }),
      key: this.#keys.session(tag, id),
      rotated: opened.rotated,
    }
    if (!opened.rotated) {
      if (this.#opened.size >= OPENED_LIMIT) this.#opened.clear()
      this.#opened.set(cacheKey, result)
    }
    return result
  }

  save(
    session: Session<object>,
    lastActive: number,
    _previous: string | undefined,
    rotate: boolean,
  ): SaveResult {
    const userId = session._auth.userId
    const handle = session._handle
    const wantedTag = userId === undefined ? undefined : this.#keys.userTag(userId)
    const ttl = this.#ttl(session, lastActive)
    // Only a logged-in session links to a remember-me token; `undefined`: no new login.
    const login = userId === undefined ? undefined : this.#links.get(session)
    const link = login?.key
    if (rotate || handle === undefined || (wantedTag !== undefined && wantedTag !== handle.tag)) {
      const id = randomId()
      const tag = wantedTag ?? randomTag()
      const set = encodeFields(session, lastActive)
      if (typeof link === 'string') set[REMEMBER_LINK] = link
      const read = recordOf(handle)
      // A link carried over from the replaced record (below) comes on top.
      const carried = link === undefined && read !== undefined ? sizeIn(read, REMEMBER_LINK) : 0
      checkRecord('create', set, [], read, carried)
      const replaces = handle === undefined ? undefined : this.#keys.session(handle.tag, handle.id)
      // What the new record stands on, so that it cannot be written once that is gone: the
      // remember-me token it was restored from, or else the record it replaces (a logout,
      // `confirmLogin`, session protection, a move to the user's tag), exactly as an update
      // needs its record. A login with credentials just checked (or a remember cookie that
      // carries its own proof) stands on its own, like a first visit.
      const requires =
        login === undefined ? replaces : login.required && link !== null ? link : undefined
      const key = this.#keys.session(tag, id)
      const create = () =>
        this.#store
          .write(key, {
            mode: 'create',
            set,
            ttl,
            index: userId === undefined ? undefined : this.#keys.index(tag),
            replaces,
            replacesIndex: handle === undefined ? undefined : this.#keys.index(handle.tag),
            requires,
          })
          .then(async (written) => {
            // Refused because what it stood on was ended meanwhile: the request's change is
            // dropped, as an update of a destroyed record is; the cookie it gets points nowhere.
            if (written || (requires !== undefined && (await this.#store.get(key)) === null)) return
            throw new Error('a new session id collided with an existing one')
          })
      // A logged-in session moving to a new id without a new login (re-authentication, a move to
      // the user's current hash tag) keeps the link to its device's remember-me token.
      const pending =
        login === undefined && userId !== undefined && replaces !== undefined
          ? this.#store.get(replaces).then((old) => {
              const carried = old?.[REMEMBER_LINK]
              if (carried !== undefined) set[REMEMBER_LINK] = carried
              return create()
            })
          : create()
      session._handle = { id, tag }
      return { value: this.#keys.seal([id, tag]), pending }
    }
    const key = this.#keys.session(handle.tag, handle.id)
    const changes = session._changes
    const changed =
      changes.set.size > 0 ||
      changes.removed.size > 0 ||
      changes.auth ||
      changes.flashes ||
      changes.permanent
    // `update` and `touch` only act on a record that still exists: a request that was in flight
    // while the session was destroyed or rotated cannot bring it back.
    // A logged-in session also refreshes its user's index, which must outlive the session.
    let pending: Promise<void>
    if (changed || userId !== undefined) {
      const read = recordOf(handle)
      const fields = changedFields(session, lastActive, read?.legacy === true)
      if (typeof link === 'string') fields.set[REMEMBER_LINK] = link
      else if (link === null) fields.remove.push(REMEMBER_LINK)
      if (read !== undefined) checkRecord('update', fields.set, fields.remove, read, 0)
      else checkRecord('create', encodeFields(session, lastActive), [], undefined, 0)
      pending = this.#store
        .write(key, {
          mode: 'update',
          ...fields,
          ttl,
          index: userId === undefined ? undefined : this.#keys.index(handle.tag),
        })
        .then(() => {})
    } else {
      pending = this.#store.touch(key, ttl, { t: String(lastActive) }).then(() => {})
    }
    // The cookie keeps its id. Signatures are deterministic, so the value differs from the
    // request's only when that was signed with an older key (and must be re-set).
    return { value: this.#keys.seal([handle.id, handle.tag]), pending }
  }

  /**
   * A new login of the session: links it to the remember-me token issued on its device
   * (`rememberKey`, the token's store key), or unlinks it (`null`), from its next save on.
   * `required`: the login was restored from that token, so the new record is written only while
   * the token still exists ("log out everywhere" or a revocation racing the restore wins).
   */
  linkRemember(session: Session<object>, rememberKey: string | null, required = false): void {
    this.#links.set(session, { key: rememberKey, required })
  }

  async destroy(previous: string): Promise<void> {
    const opened = this.#keys.open(previous, ['id', 'tag'])
    if (opened === null) return
    const [id, tag] = opened.parts as [string, string]
    await this.#store.destroy(this.#keys.session(tag, id), this.#keys.index(tag))
  }

  #ttl(session: Session<object>, now: number): number {
    const { idleTimeout, absoluteTimeout } = this.#timeouts
    const remaining = Math.min(idleTimeout, session._createdAt + absoluteTimeout - now)
    return Math.max(1, Math.ceil(remaining))
  }
}

/** The session-record field naming the device's remember-me token (its store key). */
export const REMEMBER_LINK = 'r'

/** The record a session was loaded from; `undefined` for a session this backend did not load. */
function recordOf(handle: Session<object>['_handle']): RecordInfo | undefined {
  return (handle as Partial<LoadedHandle> | undefined)?.record
}
