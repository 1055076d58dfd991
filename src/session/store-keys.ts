import { hmacSha256Base64url, sha256Base64url } from '../crypto/hash.ts'
import type { PurposeKeys } from '../crypto/keys.ts'
import { randomBase64url } from '../crypto/random.ts'
import { sign, verify } from '../crypto/sign.ts'
import type { UserId } from '../shared/types.ts'

// Session ids: 256 bits from the CSPRNG. Tags: 128 bits. Both base64url, checked exactly before
// anything reaches a store (a malformed id never does).
const ID = /^[A-Za-z0-9_-]{43}$/
const TAG = /^[A-Za-z0-9_-]{22}$/
const REMEMBER_KEY = /^lm:\{([A-Za-z0-9_-]{22})\}:r:[A-Za-z0-9_-]{22}$/
const SESSION_KEY = /^lm:\{([A-Za-z0-9_-]{22})\}:s:([A-Za-z0-9_-]{43})$/

/** A new random session id or remember validator (32 bytes, base64url). */
export function randomId(): string {
  return randomBase64url(32)
}

/** A new random hash tag / remember selector (16 bytes, base64url). */
export function randomTag(): string {
  return randomBase64url(16)
}

/** SHA-256 of a secret in base64url: what is stored instead of the secret itself. */
export function hashSecret(value: string): string {
  return sha256Base64url(value)
}

/**
 * Builds store keys. Every key of one user carries the same Redis Cluster hash tag — a keyed
 * hash of the user id — so a user's sessions, remember tokens and index share one slot.
 */
export class StoreKeys {
  readonly #tagKeys: readonly Buffer[]
  readonly #signKeys: PurposeKeys

  /** `tagKeys`: one key per configured secret, the current one first. */
  constructor(tagKeys: readonly Buffer[], signKeys: PurposeKeys) {
    this.#tagKeys = tagKeys
    this.#signKeys = signKeys
  }

  /** The hash tag new records of a user get (a keyed hash: the id cannot be read back). */
  userTag(userId: UserId): string {
    return tagWith(this.#tagKeys[0] as Buffer, userId)
  }

  /**
   * Every tag the user's records may have: one per configured secret, so that after a secret
   * rotation "log out everywhere" still finds sessions created under the older secret.
   */
  userTags(userId: UserId): string[] {
    return [...new Set(this.#tagKeys.map((key) => tagWith(key, userId)))]
  }

  session(tag: string, id: string): string {
    return this.sessionByHash(tag, hashSecret(id))
  }

  /** The key of a session known only by its hashed id (a `listSessions` handle). */
  sessionByHash(tag: string, idHash: string): string {
    return `lm:{${tag}}:s:${idHash}`
  }

  remember(tag: string, selector: string): string {
    return `lm:{${tag}}:r:${selector}`
  }

  /** The hash tag of a key made by {@link remember}, or `undefined` for any other string. */
  rememberTag(key: string): string | undefined {
    return REMEMBER_KEY.exec(key)?.[1]
  }

  /** The hash tag and hashed id of a key made by {@link session}, or `undefined` for any other string. */
  sessionParts(key: string): { tag: string; idHash: string } | undefined {
    const match = SESSION_KEY.exec(key)
    return match === null ? undefined : { tag: match[1] as string, idHash: match[2] as string }
  }

  index(tag: string): string {
    return `lm:{${tag}}:idx`
  }

  /** Signs parts joined by '~' into a cookie value. */
  seal(parts: readonly string[]): string {
    return sign(this.#signKeys, parts.join('~'))
  }

  /**
   * Verifies a cookie value made by {@link seal} and checks each part's shape; `null` for
   * anything else. Never throws.
   */
  open(
    value: string,
    shapes: readonly ('id' | 'tag')[],
  ): { parts: string[]; rotated: boolean } | null {
    if (value.length > 512) return null
    const verified = verify(this.#signKeys, value)
    if (!verified.ok) return null
    const parts = verified.value.split('~')
    if (parts.length !== shapes.length) return null
    for (let i = 0; i < parts.length; i++) {
      if (!(shapes[i] === 'id' ? ID : TAG).test(parts[i] as string)) return null
    }
    return { parts, rotated: verified.rotated }
  }
}

function tagWith(key: Buffer, userId: UserId): string {
  return hmacSha256Base64url(key, JSON.stringify(userId)).slice(0, 22)
}
