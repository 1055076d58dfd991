import { decodeCookie, encodeCookie } from '../crypto/flask-cookie.ts'
import type { PurposeKeys } from '../crypto/keys.ts'
import { seal, unseal } from '../crypto/seal.ts'
import { newRevocationId, REVOCATION_ID, type RevocationList } from '../session/revocations.ts'
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
      /** The sealed token's id (revocation list); absent in Flask tokens and older sealed ones. */
      readonly id?: string | undefined
    }
  | { readonly ok: false; readonly reason: CookieRejection }

// Characters a cookie value may not carry raw (RFC 6265 cookie-octet complement) plus '%', so the
// Flask format can hold any id and still decode unambiguously. Matched per code point (`u`): a
// character outside the BMP is escaped whole, as the four UTF-8 bytes its surrogate pair encodes
// (each half on its own is not valid Unicode, and encodeURIComponent refuses it).
const NEEDS_ESCAPE = /[^\x21\x23-\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]/gu

/** A revoked token's entry outlives its expiry by this much, for clocks a little apart. */
const REVOKE_MARGIN_SECONDS = 60

/**
 * Encodes and verifies remember-me cookies in either format:
 * `sealed` (default; encrypted, with expiry, version and an id inside, checked here; revocable
 * through the revocation list) or
 * `flask` (Flask-Login's `id|HMAC-SHA512` — no expiry, no revocation; for compatibility only).
 */
export class RememberCodec {
  readonly #format: 'sealed' | 'flask'
  readonly #keys: PurposeKeys
  readonly #flaskKeys: Buffer[]
  readonly #name: string
  readonly #revoked: RevocationList | undefined

  constructor(
    format: 'sealed' | 'flask',
    keys: PurposeKeys,
    secrets: readonly string[],
    name: string,
    revoked?: RevocationList,
  ) {
    this.#format = format
    this.#keys = keys
    this.#name = name
    this.#revoked = revoked
    // Flask-Login encodes a str secret as latin-1; secrets outside that range fall back to UTF-8.
    this.#flaskKeys = secrets.map((s) => Buffer.from(s, isLatin1(s) ? 'latin1' : 'utf8'))
  }

  /**
   * A cookie value for `userId`, valid for `duration` seconds from `nowSeconds`. `id`: the id of
   * the token this one re-issues (a refresh or a re-seal under a new key keeps it, so revoking
   * it ends every copy); a new token gets a new id.
   */
  encode(
    userId: UserId,
    duration: number,
    version: string | number | undefined,
    nowSeconds: number,
    id: string = newRevocationId(),
  ): string {
    if (this.#format === 'flask') {
      const signed = encodeCookie(String(userId), this.#flaskKeys[0]!)
      const bar = signed.lastIndexOf('|')
      return `${escapeId(signed.slice(0, bar))}${signed.slice(bar)}`
    }
    const body: Record<string, unknown> = {
      i: id,
      u: userId,
      e: Math.floor(nowSeconds + duration),
      d: duration,
    }
    if (version !== undefined) body.v = version
    return seal(this.#keys, JSON.stringify(body), this.#name)
  }

  /** Verifies a cookie value (a revoked sealed token is `ended`); never throws. */
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
    const opened = this.#openSealed(value)
    if (!opened.ok) return opened
    const { i, u, e, d, v } = opened.body
    if (e <= nowSeconds) return { ok: false, reason: 'expired' }
    if (i !== undefined && this.#revoked?.has(i) === true) return { ok: false, reason: 'ended' }
    const decoded: RememberDecoded = {
      ok: true,
      userId: u,
      version: typeof v === 'string' || typeof v === 'number' ? v : undefined,
      duration: typeof d === 'number' ? d : undefined,
      rotated: opened.rotated,
    }
    return i === undefined ? decoded : { ...decoded, id: i }
  }

  /** True when a decoded sealed token has been revoked since (a logout while its request ran). */
  isEnded(decoded: RememberDecoded): boolean {
    return decoded.ok && decoded.id !== undefined && this.#revoked?.has(decoded.id) === true
  }

  /**
   * Revokes the sealed token a cookie value carries, until it could not be valid anyway: its
   * expiry, or a full duration from now (an instance that has not heard yet may still re-issue
   * it). Flask tokens, tokens without an id and values that do not verify change nothing.
   */
  revoke(value: string, nowSeconds: number): void {
    if (this.#revoked === undefined || this.#format === 'flask') return
    if (value.length + this.#name.length + 1 > 4096) return
    const opened = this.#openSealed(value)
    if (!opened.ok || opened.body.i === undefined || opened.body.e <= nowSeconds) return
    const { i, e, d } = opened.body
    const until = Math.max(e, nowSeconds + (typeof d === 'number' ? d : 0))
    this.#revoked.revoke(i, until + REVOKE_MARGIN_SECONDS)
  }

  /** Opens a sealed token and checks its body's shape. */
  #openSealed(
    value: string,
  ): { ok: true; rotated: boolean; body: SealedBody } | { ok: false; reason: CookieRejection } {
    const opened = unseal(this.#keys, value, this.#name)
    if (!opened.ok) return { ok: false, reason: opened.reason }
    let body: unknown
    try {
      body = JSON.parse(opened.plaintext)
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    if (typeof body !== 'object' || body === null) return { ok: false, reason: 'malformed' }
    const { i, u, e, d, v } = body as Record<string, unknown>
    if (!((typeof u === 'string' && u !== '') || (typeof u === 'number' && Number.isFinite(u)))) {
      return { ok: false, reason: 'malformed' }
    }
    if (typeof e !== 'number') return { ok: false, reason: 'malformed' }
    if (i !== undefined && (typeof i !== 'string' || !REVOCATION_ID.test(i))) {
      return { ok: false, reason: 'malformed' }
    }
    return { ok: true, rotated: opened.rotated, body: { i, u, e, d, v } }
  }
}

/** A sealed token's body: i id, u user id, e expiry (seconds), d duration, v sessionVersion. */
interface SealedBody {
  readonly i: string | undefined
  readonly u: UserId
  readonly e: number
  readonly d: unknown
  readonly v: unknown
}

function escapeId(id: string): string {
  return id.replace(NEEDS_ESCAPE, (c) => encodeURIComponent(c))
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false
  return true
}
