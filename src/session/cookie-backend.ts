import { KEY_ID_LENGTH, type PurposeKeys } from '../crypto/keys.ts'
import { seal, unseal } from '../crypto/seal.ts'
import { LoginManagerError } from '../shared/errors.ts'
import { RecentMap } from '../shared/recent-map.ts'
import type { UserId } from '../shared/types.ts'
import type { LoadResult, SaveResult, SessionBackend } from './backend.ts'
import {
  FLASH_QUEUE_BYTES,
  jsonBytes,
  MAX_COOKIE_USER_ID_BYTES,
  MAX_VERSION_BYTES,
} from './limits.ts'
import {
  compactAuth,
  compactFlashes,
  decodeCachedPayload,
  encodePayload,
  type SessionInit,
} from './payload.ts'
import { newRevocationId, type RevocationList } from './revocations.ts'
import type { Session } from './session.ts'

/** Browsers ignore a cookie whose name and value pass this many bytes (RFC 6265bis). */
export const MAX_COOKIE_BYTES = 4096

/**
 * Characters of a sealed value (`v1.<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`, see
 * `crypto/seal.ts`) for a plaintext of `plaintextBytes`: the 12-byte IV and 16-byte tag are
 * added, and base64url makes every 3 bytes 4 characters.
 */
export function sealedLength(plaintextBytes: number): number {
  return 'v1.'.length + KEY_ID_LENGTH + 1 + Math.ceil(((12 + plaintextBytes + 16) * 4) / 3)
}

/** The most characters a finite number takes as JSON (`-0.0000012345678901234567`). */
const NUMBER_BYTES = 25

/**
 * The worst case of login-manager's own part of a sealed session, in bytes of JSON: every field
 * it writes, at its longest. Only the app's data comes on top of this, so only the app's data can
 * make a session cookie overflow (the `next` kept by `useSessionForNext` is left out of a cookie
 * it would not fit in).
 */
export const OWN_PAYLOAD_BYTES =
  // {"c":<created>,"t":<last active>,"p":1 … }
  '{"c":,"t":,"p":1}'.length +
  2 * NUMBER_BYTES +
  // ,"a":{"u":<id>,"f":1,"i":"<22-character identifier>","r":<remember seconds>,"v":<version>}
  ',"a":{"u":,"f":1,"i":,"r":,"v":}'.length +
  (MAX_COOKIE_USER_ID_BYTES + 2) + // the id, quoted
  (22 + 2) + // the identifier, quoted (or null)
  NUMBER_BYTES + // the remember duration
  (MAX_VERSION_BYTES + 2) + // the version, quoted (or a number)
  // Room for a session id of up to 16 bytes and its field name, in any encoding.
  64 +
  // ,"f":[["category","message"],…]
  ',"f":'.length +
  FLASH_QUEUE_BYTES

// Browsers send back the same cookie value until it is re-sealed, so remembering recently opened
// values saves the AES-GCM work and the JSON decoding on most requests. Only seals opened with the
// current key are kept; timeouts are still checked on every request (the caller does it, from the
// timestamps in the decoded session).
const CACHE_LIMIT = 10_000

/** A cache entry: the full cookie value, and its plaintext (sealed here, not read yet) or its decoded session (frozen). */
interface Cached {
  readonly value: string
  readonly plaintext: string | undefined
  readonly loaded: LoadResult | undefined
}

/**
 * The cache key of a sealed value: a number mixed from its last characters, which encode the GCM
 * tag (random-looking, distinct per seal). Much cheaper than hashing the whole value as a string
 * key; a hit still compares the whole value, so a collision, accidental or forged, only ever misses.
 */
export function cacheKeyOf(value: string): number {
  let hash = 0
  for (let i = Math.max(0, value.length - 12); i < value.length; i++) {
    hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0
  }
  return hash
}

/** What {@link CookieSessionBackend} needs to end sessions before their timeout. */
export interface CookieRevocation {
  readonly list: RevocationList
  /** Seconds. */
  readonly idleTimeout: number
  /** Seconds: a revoked id is kept this long after its session was created. */
  readonly absoluteTimeout: number
  /** Milliseconds since the epoch. */
  readonly now: () => number
}

/** A sealed session whose id is on the revocation list reads as no session. */
const ENDED: LoadResult = Object.freeze({ ok: false, reason: 'ended' })

/**
 * The default backend: the whole session sealed (AES-256-GCM) into the cookie, bound to the
 * cookie's name. Nothing to run, nothing stored on the server.
 *
 * Each sealed session carries a random id, made when the session is created and replaced when it
 * rotates. With a revocation list, {@link end} puts a logged-in session's id on the list until its
 * absolute timeout, and a cookie whose id is listed reads as no session, whichever copy of it
 * comes back.
 */
export class CookieSessionBackend implements SessionBackend {
  readonly sync = true
  readonly #keys: PurposeKeys
  readonly #name: string
  readonly #cache = new RecentMap<number, Cached>(CACHE_LIMIT)
  readonly #revocation: CookieRevocation | undefined
  readonly #revoked: RevocationList | undefined

  /**
   * @throws LoginManagerError `ERR_INVALID_OPTION` when the cookie name is so long that
   * login-manager's own part of a session might not fit in the cookie with it.
   */
  constructor(keys: PurposeKeys, cookieName: string, revocation?: CookieRevocation) {
    const longest = MAX_COOKIE_BYTES - 1 - sealedLength(OWN_PAYLOAD_BYTES)
    if (cookieName.length > longest) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `session.name: at most ${longest} characters with cookie sessions, so that a session always fits in the ${MAX_COOKIE_BYTES}-byte cookie with its name; got ${cookieName.length}`,
      )
    }
    this.#keys = keys
    this.#name = cookieName
    this.#revocation = revocation
    this.#revoked = revocation?.list
  }

  /**
   * Refuses, at login, a user id that could not fit in the cookie with the rest of the session.
   * @throws LoginManagerError `ERR_USER_ID` for a string id over {@link MAX_COOKIE_USER_ID_BYTES} bytes as JSON.
   */
  checkUserId(userId: UserId): void {
    if (typeof userId === 'string' && jsonBytes(userId) - 2 > MAX_COOKIE_USER_ID_BYTES) {
      throw new LoginManagerError(
        'ERR_USER_ID',
        `loginUser: with cookie sessions a string id may take at most ${MAX_COOKIE_USER_ID_BYTES} bytes as JSON (${MAX_COOKIE_USER_ID_BYTES} ASCII characters; a character such as é or 佐 takes 2 or 3 bytes, a quote, a backslash or a control character 2 or 6); use shorter ids, or a session store (session.store)`,
      )
    }
  }

  load(cookieValue: string): LoadResult {
    // Checked before any cryptography: an oversized value is refused cheaply.
    if (cookieValue.length + this.#name.length + 1 > MAX_COOKIE_BYTES) {
      return { ok: false, reason: 'oversized' }
    }
    const key = cacheKeyOf(cookieValue)
    let cached = this.#cache.get(key)
    if (cached !== undefined && cached.value !== cookieValue) cached = undefined
    if (cached?.loaded !== undefined) return this.#unlessEnded(cached.loaded)
    let plaintext = cached?.plaintext
    let rotated = false
    if (plaintext === undefined) {
      const opened = unseal(this.#keys, cookieValue, this.#name)
      if (!opened.ok) return { ok: false, reason: opened.reason }
      plaintext = opened.plaintext
      rotated = opened.rotated
    }
    const init = decodeCachedPayload(plaintext)
    if (init === null) return { ok: false, reason: 'malformed' }
    const result: LoadResult = Object.freeze({ ok: true, init: Object.freeze(init), rotated })
    if (!rotated) this.#remember(cookieValue, undefined, result)
    return this.#unlessEnded(result)
  }

  #unlessEnded(result: LoadResult): LoadResult {
    const sid = result.ok ? result.init.sid : undefined
    return sid !== undefined && this.#revoked?.has(sid) === true ? ENDED : result
  }

  save(
    session: Session<object>,
    lastActive: number,
    _previous?: string,
    rotate?: boolean,
  ): SaveResult {
    // A rotation gives the session a new identity; the one it replaces is ended by end().
    if (rotate === true || session._sid === undefined) session._sid = newRevocationId()
    let plaintext = encodePayload(session, lastActive)
    let value = seal(this.#keys, plaintext, this.#name)
    let size = this.#name.length + 1 + value.length
    const withoutNext = size > MAX_COOKIE_BYTES && session._auth.next !== undefined
    if (withoutNext) {
      // The `next` kept by useSessionForNext is a convenience: rather than fail the response, a
      // session too large with it goes without it (after the login, the app's default page).
      plaintext = encodePayload(session, lastActive, true)
      value = seal(this.#keys, plaintext, this.#name)
      size = this.#name.length + 1 + value.length
    }
    if (size > MAX_COOKIE_BYTES) {
      throw new LoginManagerError(
        'ERR_COOKIE_TOO_LARGE',
        `the session cookie would be ${size} bytes, over the ${MAX_COOKIE_BYTES}-byte limit browsers keep; largest entries: ${largestEntries(session)}${withoutNext ? " (the 'next' URL kept by useSessionForNext already left out)" : ''}. Store big values server-side (a session store, or your database) and keep only ids in the session.`,
      )
    }
    this.#remember(value, plaintext, undefined)
    return { value }
  }

  destroy(): void {}

  /**
   * Ends the session a cookie value carries, if it was logged in: its id goes on the revocation
   * list, so no copy of the value (nor any later re-seal of it) is accepted again. A value that
   * does not open, or whose session had no login or has timed out, changes nothing.
   */
  end(previous: string): void {
    const revocation = this.#revocation
    if (revocation === undefined) return
    const loaded = this.load(previous)
    if (loaded.ok) endSession(revocation, loaded.init, Math.floor(revocation.now() / 1000))
  }

  #remember(value: string, plaintext: string | undefined, loaded: LoadResult | undefined): void {
    this.#cache.set(cacheKeyOf(value), { value, plaintext, loaded })
  }
}

function endSession(revocation: CookieRevocation, init: SessionInit, now: number): void {
  const { sid, auth, createdAt, lastActive } = init
  if (sid === undefined || auth.userId === undefined) return
  const { idleTimeout, absoluteTimeout } = revocation
  if (now - lastActive > idleTimeout || now - createdAt > absoluteTimeout) return
  // A copy is refused by its absolute timeout from then on: the entry is not needed after it.
  revocation.list.revoke(sid, createdAt + absoluteTimeout + 1)
}

/**
 * The three largest entries of the session, by the bytes each takes in the cookie (its UTF-8
 * JSON, grown by a third by base64url): the app's keys by name, login-manager's own parts
 * (flash messages, the login state) described.
 */
function largestEntries(session: Session<object>): string {
  const cookieBytes = (jsonPart: number) => Math.ceil((jsonPart * 4) / 3)
  const sizes: [string, number][] = Object.keys(session._data).map((key) => [
    `'${key}'`,
    cookieBytes(jsonBytes(key) + 1 + jsonBytes(session._data[key])),
  ])
  const flashes = compactFlashes(session._flashes)
  if (flashes !== undefined) sizes.push(['flash messages', cookieBytes(5 + jsonBytes(flashes))])
  // A `next` is never among them: a session too large is always encoded without it.
  const auth = compactAuth(session._auth, true)
  if (auth !== undefined) sizes.push(['the login state', cookieBytes(5 + jsonBytes(auth))])
  sizes.sort((x, y) => y[1] - x[1])
  return (
    sizes
      .slice(0, 3)
      .map(([label, n]) => `${label} (${n} bytes)`)
      .join(', ') || '(none)'
  )
}
