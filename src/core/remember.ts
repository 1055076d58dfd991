import { decodeCookie, encodeCookie } from '../crypto/flask-cookie.ts'
import type { PurposeKeys } from '../crypto/keys.ts'
import { seal, unseal } from '../crypto/seal.ts'
import type { CookieRejection } from './events.ts'
import type { UserId } from './types.ts'

/** A remember-me token after verification. */
export type RememberDecoded =
  | {
      readonly ok: true
      readonly userId: UserId
      /** The user's `sessionVersion` when the token was issued. */
      readonly version: string | number | undefined
      /** The remember duration chosen at login, in seconds. */
      readonly duration: number | undefined
      readonly rotated: boolean
    }
  | { readonly ok: false; readonly reason: CookieRejection }

// Characters a cookie value may not carry raw (RFC 6265 cookie-octet complement) plus '%', so the
// Flask format can hold any id and still decode unambiguously. Matched per code point (`u`): a
// character outside the BMP is escaped whole, as the four UTF-8 bytes its surrogate pair encodes
// (each half on its own is not valid Unicode, and encodeURIComponent refuses it).
const NEEDS_ESCAPE = /[^\x21\x23-\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]/gu

/**
 * Encodes and verifies remember-me cookies in either format:
 * `sealed` (default; encrypted, expiry and version inside, checked here) or
 * `flask` (Flask-Login's `id|HMAC-SHA512` — no expiry, no revocation; for compatibility only).
 */
export class RememberCodec {
  readonly #format: 'sealed' | 'flask'
  readonly #keys: PurposeKeys
  readonly #flaskKeys: Buffer[]
  readonly #name: string

  constructor(
    format: 'sealed' | 'flask',
    keys: PurposeKeys,
    secrets: readonly string[],
    name: string,
  ) {
    this.#format = format
    this.#keys = keys
    this.#name = name
    // Flask-Login encodes a str secret as latin-1; secrets outside that range fall back to UTF-8.
    this.#flaskKeys = secrets.map((s) => Buffer.from(s, isLatin1(s) ? 'latin1' : 'utf8'))
  }

  /** A cookie value for `userId`, valid for `duration` seconds from `nowSeconds`. */
  encode(
    userId: UserId,
    duration: number,
    version: string | number | undefined,
    nowSeconds: number,
  ): string {
    if (this.#format === 'flask') {
      const signed = encodeCookie(String(userId), this.#flaskKeys[0]!)
      const bar = signed.lastIndexOf('|')
      return `${escapeId(signed.slice(0, bar))}${signed.slice(bar)}`
    }
    const body: Record<string, unknown> = {
      u: userId,
      e: Math.floor(nowSeconds + duration),
      d: duration,
    }
    if (version !== undefined) body.v = version
    return seal(this.#keys, JSON.stringify(body), this.#name)
  }

  /** Verifies a cookie value; never throws. */
  decode(value: string, nowSeconds: number): RememberDecoded {
    if (value.length + this.#name.length + 1 > 4096) return { ok: false, reason: 'oversized' }
    if (this.#format === 'flask') {
      const bar = value.lastIndexOf('|')
      if (bar <= 0) return { ok: false, reason: 'malformed' }
      let id: string
      try {
        id = decodeURIComponent(value.slice(0, bar))
      } catch {
        return { ok: false, reason: 'malformed' }
      }
      const unescaped = `${id}${value.slice(bar)}`
      const [current, ...older] = this.#flaskKeys
      let payload = decodeCookie(unescaped, current as Buffer)
      const rotated = payload === null && older.length > 0
      if (rotated) payload = decodeCookie(unescaped, older)
      if (payload === null) return { ok: false, reason: 'signature' }
      return { ok: true, userId: payload, version: undefined, duration: undefined, rotated }
    }
    const opened = unseal(this.#keys, value, this.#name)
    if (!opened.ok) return { ok: false, reason: opened.reason }
    let body: unknown
    try {
      body = JSON.parse(opened.plaintext)
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    if (typeof body !== 'object' || body === null) return { ok: false, reason: 'malformed' }
    const { u, e, d, v } = body as Record<string, unknown>
    if (!((typeof u === 'string' && u !== '') || (typeof u === 'number' && Number.isFinite(u)))) {
      return { ok: false, reason: 'malformed' }
    }
    if (typeof e !== 'number') return { ok: false, reason: 'malformed' }
    if (e <= nowSeconds) return { ok: false, reason: 'expired' }
    return {
      ok: true,
      userId: u,
      version: typeof v === 'string' || typeof v === 'number' ? v : undefined,
      duration: typeof d === 'number' ? d : undefined,
      rotated: opened.rotated,
    }
  }
}

function escapeId(id: string): string {
  return id.replace(NEEDS_ESCAPE, (c) => encodeURIComponent(c))
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false
  return true
}
