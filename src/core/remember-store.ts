import { timingSafeEqual } from 'node:crypto'
import type { SessionStore } from '../session/store.ts'
import { hashSecret, randomId, randomTag, type StoreKeys } from '../session/store-keys.ts'
import type { CookieRejection } from './events.ts'
import type { UserId } from './types.ts'

/** How long a just-replaced validator is still accepted: parallel requests of one browser. */
const GRACE_SECONDS = 30

/** What restoring a remember-me token produced. */
export type StoreRestore =
  | {
      readonly ok: true
      readonly userId: UserId
      readonly version: string | number | undefined
      readonly duration: number
      /** The token's store key (what a session restored from it links to). */
      readonly key: string
      /** The rotated cookie value to send back, or `undefined` within the grace window. */
      readonly next: string | undefined
      readonly pending: Promise<void> | undefined
    }
  | { readonly ok: false; readonly reason: CookieRejection; readonly userId?: UserId }

/**
 * Remember-me tokens kept in the session store: the cookie holds a selector and a validator; the
 * store holds a hash of the validator. A token is single-use (each restore rotates the validator);
 * presenting an already-rotated validator means the cookie was copied, so the whole series is
 * revoked. Logout on the device, and "log out everywhere", delete it.
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
      u: JSON.stringify(userId),
      h: hashSecret(validator),
      e: String(Math.floor(now + duration)),
      d: String(duration),
    }
    if (version !== undefined) fields.v = JSON.stringify(version)
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

  /** Verifies and rotates a token. Store failures reject. */
  async restore(value: string, now: number): Promise<StoreRestore> {
    const opened = this.#keys.open(value, ['tag', 'tag', 'id'])
    if (opened === null) return { ok: false, reason: 'signature' }
    const [tag, selector, validator] = opened.parts as [string, string, string]
    const key = this.#keys.remember(tag, selector)
    const record = await this.#store.get(key)
    if (record === null) return { ok: false, reason: 'unknown-session' }
    let userId: UserId
    let version: string | number | undefined
    try {
      userId = JSON.parse(record.u as string) as UserId
      version = record.v === undefined ? undefined : (JSON.parse(record.v) as string | number)
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    const expires = Number(record.e)
    if (!(expires > now)) {
      await this.#store.destroy(key, this.#keys.index(tag))
      return { ok: false, reason: 'expired', userId }
    }
    const presented = hashSecret(validator)
    const duration = Number(record.d)
    if (sameHash(presented, record.h)) {
      const fresh = randomId()
      const rotated = await this.#store.write(key, {
        mode: 'update',
        set: { h: hashSecret(fresh), ph: presented, pt: String(now) },
        ttl: Math.max(1, Math.ceil(expires - now)),
      })
      if (!rotated) return { ok: false, reason: 'revoked', userId }
      return {
        ok: true,
        userId,
        version,
        duration,
        key,
        next: this.#keys.seal([tag, selector, fresh]),
        pending: undefined,
      }
    }
    if (sameHash(presented, record.ph) && now - Number(record.pt) <= GRACE_SECONDS) {
      // A parallel request of the same browser: the other response carries the new validator.
      return { ok: true, userId, version, duration, key, next: undefined, pending: undefined }
    }
    // A validator that was already replaced came back: the cookie was copied. End the series.
    await this.#store.destroy(key, this.#keys.index(tag))
    return { ok: false, reason: 'reused', userId }
  }

  /** Extends a token's life (refreshEachRequest); the cookie value stays the same. */
  refresh(value: string, duration: number, now: number): Promise<void> | undefined {
    const opened = this.#keys.open(value, ['tag', 'tag', 'id'])
    if (opened === null) return undefined
    const [tag, selector] = opened.parts as [string, string, string]
    return this.#store
      .touch(this.#keys.remember(tag, selector), Math.max(1, Math.ceil(duration)), {
        e: String(Math.floor(now + duration)),
      })
      .then(() => {})
  }

  /** Deletes the token a cookie value points to (logout on this device). */
  revoke(value: string): Promise<void> | undefined {
    const opened = this.#keys.open(value, ['tag', 'tag', 'id'])
    if (opened === null) return undefined
    const [tag, selector] = opened.parts as [string, string, string]
    return this.#store.destroy(this.#keys.remember(tag, selector), this.#keys.index(tag))
  }

  /** The store key of the token a cookie value points to. */
  keyOf(value: string): string | undefined {
    const opened = this.#keys.open(value, ['tag', 'tag', 'id'])
    if (opened === null) return undefined
    return this.#keys.remember(opened.parts[0] as string, opened.parts[1] as string)
  }
}

function sameHash(presented: string, stored: string | undefined): boolean {
  if (stored === undefined || stored.length !== presented.length) return false
  return timingSafeEqual(Buffer.from(presented), Buffer.from(stored))
}
