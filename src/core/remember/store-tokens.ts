import { constantTimeEqual } from '../../crypto/hash.ts'
import { asciiJson, isStoredText } from '../../session/record-json.ts'
import type { SessionStore } from '../../session/store.ts'
import { REMEMBER_LINK } from '../../session/store-backend.ts'
import { hashSecret, randomId, randomTag, type StoreKeys } from '../../session/store-keys.ts'
import type { CookieRejection } from '../../shared/rejections.ts'
import type { UserId } from '../../shared/types.ts'
import { MAX_COOKIE_AGE } from '../options.ts'

/** How long a just-replaced validator is still accepted: parallel requests of one browser. */
const GRACE_SECONDS = 30
/** Compare-and-set attempts of one rotation before it gives up rotating (and accepts as is). */
const ROTATION_ATTEMPTS = 3

// Fields read back from the store are checked as strictly as cookies: a record that does not
// match is no token (never a theft, never a 5xx).
const HASH = /^[A-Za-z0-9_-]{43}$/
const EPOCH_SECONDS = /^\d{1,15}$/
const DURATION = /^\d{1,9}(\.\d{1,17})?$/

/**
 * A token record, validated. In the store, its fields are:
 * - `u`: the user id (JSON); `v`: their `sessionVersion` when it was issued (JSON, optional);
 * - `e`: when it expires, `d`: its remember-me duration (seconds since the epoch, seconds);
 * - `h`: the SHA-256 of the current validator;
 * - `ph`, `pt`: the SHA-256 of the validator `h` replaced, and when (seconds since the epoch);
 * - `hu`: `'1'` while `h` is unconfirmed: issued to a response not yet known to carry it.
 */
interface TokenRecord {
  readonly userId: UserId
  readonly version: string | number | undefined
  readonly expires: number
  readonly duration: number
  readonly hash: string
  readonly previous: { readonly hash: string; readonly at: number } | undefined
  readonly unconfirmed: boolean
}

/** A verified remember cookie value: the token it names. */
interface Opened {
  readonly tag: string
  readonly selector: string
  readonly validator: string
  readonly key: string
}

/** A token refused: why, and (when the record said so) whose it was. */
export interface TokenRefusal {
  readonly ok: false
  readonly reason: CookieRejection
  readonly userId?: UserId
  /** The token's store key, for `reused` (what {@link StoreRememberTokens.endSeries} ends). */
  readonly key?: string
}

/** A presented token that may restore a login (before the user is loaded and the token rotated). */
export interface TokenMatch {
  readonly ok: true
  readonly userId: UserId
  readonly version: string | number | undefined
  readonly duration: number
  /** The token's store key (what a session restored from it links to). */
  readonly key: string
  /** @internal What {@link StoreRememberTokens.rotate} needs. */
  readonly state: {
    readonly opened: Opened
    /** The hash of the presented validator. */
    readonly presented: string
    /** The record's `h` when read: the rotation is a compare-and-set on it. */
    readonly read: string
    readonly expires: number
    /** False within the grace window: a parallel request's response carries the new validator. */
    readonly rotate: boolean
  }
}

export type TokenCheck = TokenMatch | TokenRefusal

/** A rotation done (or not needed): the cookie to send, and the write that confirms it. */
export type TokenRotation =
  | {
      readonly ok: true
      /** The new cookie value, or `undefined` when the request keeps its own (grace window). */
      readonly next: string | undefined
      /**
       * Marks the new validator as sent: call it once the response is known to carry `next`.
       * Until then the replaced validator stays valid, so a response that never reaches the
       * browser (a 5xx, a failed write) cannot make its old cookie look stolen later.
       */
      readonly confirm: (() => Promise<void>) | undefined
    }
  | TokenRefusal

/** What ending a token series ended (see {@link StoreRememberTokens.endSeries}). */
export interface SeriesEnded {
  sessions: number
  tokens: number
}

/**
 * Remember-me tokens kept in the session store: the cookie holds a selector and a validator; the
 * store holds a hash of the validator. A token is single-use: each restore rotates the validator,
 * as a compare-and-set on the hash it read, so two requests racing with one cookie rotate it once
 * (the other is accepted through the grace window). The replaced validator stays valid until the
 * response with its successor is committed, and for the grace window after. A validator replaced
 * longer ago means the cookie was copied: {@link StoreRememberTokens.endSeries}. Logout on the
 * device, and "log out everywhere", delete the token.
 */
export class StoreRememberTokens {
  readonly #store: SessionStore
  readonly #keys: StoreKeys

  constructor(store: SessionStore, keys: StoreKeys) {
    this.#store = store
    this.#keys = keys
  }

  /**
   * Picks the selector of a token to be issued later in the request, and its store key, so the
   * session can be linked to the token before either is written.
   */
  reserve(userId: UserId): { selector: string; key: string } {
    const selector = randomTag()
    return { selector, key: this.#keys.remember(this.#keys.userTag(userId), selector) }
  }

  /** A new token series for a user (with a `selector` from {@link reserve}, or a new one); the write is `pending`. */
  issue(
    userId: UserId,
    duration: number,
    version: string | number | undefined,
    now: number,
    selector: string = randomTag(),
  ): { value: string; pending: Promise<void> } {
    const tag = this.#keys.userTag(userId)
    const validator = randomId()
    const fields: Record<string, string> = {
      u: asciiJson(userId),
      h: hashSecret(validator),
      e: String(Math.floor(now + duration)),
      d: String(duration),
    }
    if (version !== undefined) fields.v = asciiJson(version)
    const pending = this.#store
      .write(this.#keys.remember(tag, selector), {
        mode: 'create',
        set: fields,
        ttl: Math.max(1, Math.ceil(duration)),
        index: this.#keys.index(tag),
      })
      .then(() => {})
    return { value: this.#keys.seal([tag, selector, validator]), pending }
  }

  /**
   * Verifies a presented token against its record, writing nothing (except to delete an expired
   * or unreadable record). Store failures reject.
   */
  async check(value: string, now: number): Promise<TokenCheck> {
    const opened = this.#open(value)
    if (opened === undefined) return { ok: false, reason: 'signature' }
    return this.#match(opened, hashSecret(opened.validator), now)
  }

  /**
   * Rotates a token {@link check} accepted, once the login it restores is accepted too. When
   * another request rotated it meanwhile, looks again: within the grace window the request is
   * accepted without a new cookie (the other response carries one). Store failures reject.
   */
  async rotate(match: TokenMatch, now: number): Promise<TokenRotation> {
    let current: TokenCheck = match
    for (let attempt = 0; attempt < ROTATION_ATTEMPTS; attempt++) {
      if (!current.ok) return current
      const { opened, presented, read, expires, rotate } = current.state
      if (!rotate) return { ok: true, next: undefined, confirm: undefined }
      const validator = randomId()
      const hash = hashSecret(validator)
      const ttl = Math.max(1, Math.ceil(expires - now))
      const rotated = await this.#store.write(opened.key, {
        mode: 'update',
        expect: { h: read },
        set: { h: hash, ph: presented, pt: String(now), hu: '1' },
        ttl,
      })
      if (rotated) {
        const confirm = () =>
          this.#store
            .write(opened.key, {
              mode: 'update',
              expect: { h: hash },
              set: {},
              remove: ['hu'],
              ttl,
            })
            .then(() => {})
        const next = this.#keys.seal([opened.tag, opened.selector, validator])
        return { ok: true, next, confirm }
      }
      current = await this.#match(opened, presented, now)
    }
    // Still contended: the validator was valid when last read; accept it without rotating.
    return { ok: true, next: undefined, confirm: undefined }
  }

  /**
   * The answer to a token that came back after it had been replaced (a copy was used): every
   * remember-me token of the user is revoked, then every session restored from this token's
   * series is ended (tokens first, so that no restore can start once the sessions are looked
   * up). Counts into `ended` as it goes, so a store failure part-way still reports what went.
   */
  async endSeries(userId: UserId, key: string, ended: SeriesEnded): Promise<void> {
    const own = this.#keys.rememberTag(key)
    if (own !== undefined) {
      await this.#store.destroy(key, this.#keys.index(own))
      ended.tokens++
    }
    for (const tag of this.#tagsOf(userId, key)) {
      const index = this.#keys.index(tag)
      for (const member of await this.#store.members(index)) {
        if (member === key || this.#keys.rememberTag(member) !== tag) continue
        await this.#store.destroy(member, index)
        ended.tokens++
      }
    }
    ended.sessions += await this.endLinkedSessions(userId, key)
  }

  /**
   * Ends every session of the user whose record names the token `key` (restored from it, or
   * logged in with it): after the token itself was deleted, this catches a restore that was in
   * flight. Returns how many it ended.
   */
  async endLinkedSessions(userId: UserId, key: string): Promise<number> {
    let ended = 0
    for (const tag of this.#tagsOf(userId, key)) {
      const index = this.#keys.index(tag)
      const sessions = (await this.#store.members(index)).filter(
        (member) => this.#keys.sessionParts(member)?.tag === tag,
      )
      const records = await Promise.all(sessions.map((member) => this.#store.get(member)))
      for (let i = 0; i < sessions.length; i++) {
        if (records[i]?.[REMEMBER_LINK] !== key) continue
        await this.#store.destroy(sessions[i] as string, index)
        ended++
      }
    }
    return ended
  }

  /**
   * Extends a token's life (refreshEachRequest). Returns the cookie value to send again — built
   * from the verified parts, never the presented text — or `undefined` for a value that does
   * not verify.
   */
  refresh(
    value: string,
    duration: number,
    now: number,
  ): { value: string; pending: Promise<void> } | undefined {
    const opened = this.#open(value)
    if (opened === undefined) return undefined
    // An update naming the user's index (not a touch), so that the index lives as long as the
    // token it now outlives: "log out everywhere" must still find a token refreshed past it.
    const pending = this.#store
      .write(opened.key, {
        mode: 'update',
        set: { e: String(Math.floor(now + duration)) },
        ttl: Math.max(1, Math.ceil(duration)),
        index: this.#keys.index(opened.tag),
      })
      .then(() => {})
    return { value: this.#keys.seal([opened.tag, opened.selector, opened.validator]), pending }
  }

  /** Whether a cookie value is a validly signed token of `userId` (its record is not read). */
  belongsTo(value: string, userId: UserId): boolean {
    const opened = this.#open(value)
    return opened !== undefined && this.#keys.userTags(userId).includes(opened.tag)
  }

  /** Deletes the token a cookie value points to (logout on this device). */
  revoke(value: string): Promise<void> | undefined {
    const opened = this.#open(value)
    if (opened === undefined) return undefined
    return this.#store.destroy(opened.key, this.#keys.index(opened.tag))
  }

  /** The store key of the token a cookie value points to. */
  keyOf(value: string): string | undefined {
    return this.#open(value)?.key
  }

  #open(value: string): Opened | undefined {
    const opened = this.#keys.open(value, ['tag', 'tag', 'id'])
    if (opened === null) return undefined
    const [tag, selector, validator] = opened.parts as [string, string, string]
    return { tag, selector, validator, key: this.#keys.remember(tag, selector) }
  }

  async #match(opened: Opened, presented: string, now: number): Promise<TokenCheck> {
    const { key, tag } = opened
    const fields = await this.#store.get(key)
    if (fields === null) return { ok: false, reason: 'unknown-session' }
    const record = parseRecord(fields)
    if (record === undefined) {
      await this.#store.destroy(key, this.#keys.index(tag))
      return { ok: false, reason: 'malformed' }
    }
    const { userId } = record
    if (!(record.expires > now)) {
      await this.#store.destroy(key, this.#keys.index(tag))
      return { ok: false, reason: 'expired', userId }
    }
    let rotate: boolean
    if (sameHash(presented, record.hash)) {
      rotate = true
    } else if (record.previous !== undefined && sameHash(presented, record.previous.hash)) {
      // The validator `h` replaced: a parallel request of the same browser (grace window), or
      // the browser never got `h` (its rotation is unconfirmed) and this is still its cookie.
      if (now - record.previous.at <= GRACE_SECONDS) rotate = false
      else if (record.unconfirmed) rotate = true
      else return { ok: false, reason: 'reused', userId, key }
    } else {
      // Signed by us, so a validator of this series, replaced before `ph`: the cookie was copied.
      return { ok: false, reason: 'reused', userId, key }
    }
    return {
      ok: true,
      userId,
      version: record.version,
      duration: record.duration,
      key,
      state: { opened, presented, read: record.hash, expires: record.expires, rotate },
    }
  }

  /** The user's tags, and the token's own (it may predate a secret rotation). */
  #tagsOf(userId: UserId, key: string): string[] {
    const tags = this.#keys.userTags(userId)
    const own = this.#keys.rememberTag(key)
    return own === undefined || tags.includes(own) ? tags : [...tags, own]
  }
}

function parseRecord(fields: Readonly<Record<string, string>>): TokenRecord | undefined {
  const { u, v, e, d, h, ph, pt, hu } = fields
  if (u === undefined || e === undefined || d === undefined || h === undefined) return undefined
  if (!HASH.test(h) || !EPOCH_SECONDS.test(e) || !DURATION.test(d)) return undefined
  const duration = Number(d)
  if (!(duration >= 1 && duration <= MAX_COOKIE_AGE)) return undefined
  const userId = parseJson(u)
  if (!isIdValue(userId)) return undefined
  let version: string | number | undefined
  if (v !== undefined) {
    const parsed = parseJson(v)
    if (!isIdValue(parsed)) return undefined
    version = parsed
  }
  let previous: TokenRecord['previous']
  if (ph !== undefined || pt !== undefined) {
    if (ph === undefined || pt === undefined || !HASH.test(ph) || !EPOCH_SECONDS.test(pt)) {
      return undefined
    }
    previous = { hash: ph, at: Number(pt) }
  }
  if (hu !== undefined && hu !== '1') return undefined
  return {
    userId,
    version,
    expires: Number(e),
    duration,
    hash: h,
    previous,
    unconfirmed: hu === '1',
  }
}

// A user id takes at most 1024 characters, each at most six as an escape.
const MAX_ID_JSON = 6 * 1024 + 2

function parseJson(text: string): unknown {
  // Written as ASCII JSON: anything else (a lenient decoder's U+FFFD, a lone surrogate) or
  // anything longer than an id can be is a corrupt record, refused before parsing.
  if (text.length > MAX_ID_JSON || !isStoredText(text)) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A user id or a session version: a string, or a finite number. */
function isIdValue(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

function sameHash(presented: string, stored: string): boolean {
  return constantTimeEqual(presented, stored)
}
