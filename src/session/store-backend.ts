import { LoginManagerError } from '../shared/errors.ts'
import type { LoadResult, SaveResult, SessionBackend } from './backend.ts'
import { cacheKeyOf } from './cookie-backend.ts'
import { compactAuth, compactFlashes, fromCompact, type OwnedSessionInit } from './payload.ts'
import {
  asciiJson,
  dataField,
  FORMAT_ASCII,
  FORMAT_FIELD,
  fieldBytes,
  keyOfDataField,
  MAX_JSON_DEPTH,
  MAX_READ_BYTES,
  MAX_RECORD_BYTES,
  withinDepth,
} from './record-json.ts'
import type { Session } from './session.ts'
import type { SessionStore } from './store.ts'
import { randomId, randomTag, type StoreKeys } from './store-keys.ts'

/** A verified session cookie: where its session lives. */
interface Opened {
  readonly value: string
  readonly handle: { readonly id: string; readonly tag: string }
  readonly key: string
  readonly rotated: boolean
}

const OPENED_LIMIT = 10_000

/** What a session's save needs to know of the record it was read from. */
interface RecordInfo {
  /** Written in the earlier format (names and values UTF-8 as is). */
  readonly legacy: boolean
  /** The record's fields as read. */
  readonly fields: Readonly<Record<string, string>>
  /** The bytes of the whole record, as the current format writes it. */
  readonly total: number
}

/** The handle of a session this backend loaded: it carries the record the session came from. */
interface LoadedHandle {
  readonly id: string
  readonly tag: string
  readonly record: RecordInfo
}

/** The bytes a field of a record read takes in the current format. */
function sizeIn(read: RecordInfo, name: string): number {
  const value = read.fields[name]
  return value === undefined ? 0 : fieldBytes(name, value, read.legacy)
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

function encodeFields(session: Session<object>, lastActive: number): Record<string, string> {
  const fields: Record<string, string> = {
    c: String(session._createdAt),
    t: String(lastActive),
    p: session._permanent ? '1' : '0',
    [FORMAT_FIELD]: FORMAT_ASCII,
  }
  const auth = compactAuth(session._auth)
  if (auth !== undefined) fields.a = asciiJson(auth)
  const flashes = compactFlashes(session._flashes)
  if (flashes !== undefined) fields.f = asciiJson(flashes)
  for (const key of Object.keys(session._data)) {
    fields[dataField(key)] = encodeValue(key, session._data[key])
  }
  return fields
}

/** The changed fields; `legacy`: named for a record of the earlier format. */
function changedFields(session: Session<object>, lastActive: number, legacy: boolean) {
  const changes = session._changes
  const set: Record<string, string> = { t: String(lastActive) }
  const remove: string[] = []
  if (changes.permanent) set.p = session._permanent ? '1' : '0'
  if (changes.auth) {
    const auth = compactAuth(session._auth)
    if (auth === undefined) remove.push('a')
    else set.a = asciiJson(auth)
  }
  if (changes.flashes) {
    const flashes = compactFlashes(session._flashes)
    if (flashes === undefined) remove.push('f')
    else set.f = asciiJson(flashes)
  }
  for (const key of changes.set) {
    set[dataField(key, legacy)] = encodeValue(key, session._data[key])
  }
  for (const key of changes.removed) remove.push(dataField(key, legacy))
  return { set, remove }
}

/** The app's value as stored. @throws LoginManagerError `ERR_SESSION_TOO_LARGE` for a value too deep to encode. */
function encodeValue(key: string, value: unknown): string {
  try {
    return asciiJson(value)
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
    throw tooDeep(`'${key}'`)
  }
}

function tooDeep(label: string): LoginManagerError {
  return new LoginManagerError(
    'ERR_SESSION_TOO_LARGE',
    `the session value ${label} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep, deeper than a stored session may hold. Keep such data in your database and only ids in the session.`,
  )
}

/** What a field holds, for error messages: the app's key by name, login-manager's own fields described. */
function describeField(name: string): string {
  if (name.startsWith('d:')) return `'${keyOfDataField(name, false) ?? name.slice(2)}'`
  if (name === 'a') return 'the login state'
  if (name === 'f') return 'flash messages'
  return `the '${name}' field`
}

/**
 * Refuses, before anything is written, a write that would leave the record over
 * {@link MAX_RECORD_BYTES} (unless it does not grow it: a session that was read can always be
 * written back, logged out or rotated) or with a value nested too deep to be read back.
 * `read`: the record the write replaces (`create`) or changes (`update`); `extra`: bytes
 * written beside `set`.
 * @throws LoginManagerError `ERR_SESSION_TOO_LARGE`
 */
function checkRecord(
  mode: 'create' | 'update',
  set: Readonly<Record<string, string>>,
  remove: readonly string[],
  read: RecordInfo | undefined,
  extra: number,
): void {
  const sizes = new Map<string, number>()
  if (mode === 'update' && read !== undefined) {
    for (const name of Object.keys(read.fields)) sizes.set(name, sizeIn(read, name))
  }
  for (const name of remove) sizes.delete(name)
  for (const name of Object.keys(set)) {
    const value = set[name] as string
    if ((name === 'a' || name === 'f' || name.startsWith('d:')) && !withinDepth(value)) {
      throw tooDeep(describeField(name))
    }
    sizes.set(name, name.length + value.length)
  }
  let total = extra
  for (const bytes of sizes.values()) total += bytes
  if (total <= MAX_RECORD_BYTES || total <= (read?.total ?? 0)) return
  const largest = [...sizes]
    .filter(([name]) => name === 'a' || name === 'f' || name.startsWith('d:'))
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([name, bytes]) => `${describeField(name)} (${bytes} bytes)`)
    .join(', ')
  throw new LoginManagerError(
    'ERR_SESSION_TOO_LARGE',
    `the stored session would be ${total} bytes, over the ${MAX_RECORD_BYTES}-byte limit of a session record; largest entries: ${largest || '(none)'}. Keep big values in your database and only ids in the session.`,
  )
}

/** A record read back: the session, and what its next save needs to know; `null` when it does not decode. */
export function decodeFields(
  fields: Record<string, string>,
): { init: OwnedSessionInit; record: RecordInfo } | null {
  // Sizes and characters first, in one cheap pass over the strings: nothing is parsed before
  // the whole record is known to be within limits.
  const legacy = fields[FORMAT_FIELD] !== FORMAT_ASCII
  // Written back, an earlier-format record gains the format field.
  let total = legacy ? FORMAT_FIELD.length + FORMAT_ASCII.length : 0
  for (const name of Object.keys(fields)) {
    const value = fields[name]
    if (typeof value !== 'string') return null
    const bytes = fieldBytes(name, value, legacy)
    if (bytes < 0) return null
    total += bytes
    if (total > MAX_READ_BYTES) return null
  }
  try {
    const data: Record<string, unknown> = Object.create(null)
    for (const name of Object.keys(fields)) {
      if (!name.startsWith('d:')) continue
      const key = keyOfDataField(name, legacy)
      if (key === undefined) return null
      data[key] = parseValue(fields[name] as string)
    }
    const init = fromCompact({
      c: Number(fields.c),
      t: Number(fields.t),
      p: fields.p === '1' ? 1 : 0,
      a: fields.a === undefined ? undefined : parseValue(fields.a),
      f: fields.f === undefined ? undefined : parseValue(fields.f),
      d: data,
    })
    return init === null ? null : { init, record: { legacy, fields, total } }
  } catch {
    return null
  }
}

/** The record a session was loaded from; `undefined` for a session this backend did not load. */
function recordOf(handle: Session<object>['_handle']): RecordInfo | undefined {
  return (handle as Partial<LoadedHandle> | undefined)?.record
}

function parseValue(json: string): unknown {
  if (!withinDepth(json)) throw new RangeError('nested too deep')
  return JSON.parse(json)
}
