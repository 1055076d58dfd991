import { decodeCookie, encodeCookie } from '../../crypto/flask-cookie.ts'
import type { UserId } from '../../shared/types.ts'
import { isOversized, type RememberCodec, type RememberDecoded } from './codec.ts'

// Characters a cookie value may not carry raw (RFC 6265 cookie-octet complement) plus '%', so the
// Flask format can hold any id and still decode unambiguously. Matched per code point (`u`): a
// character outside the BMP is escaped whole, as the four UTF-8 bytes its surrogate pair encodes
// (each half on its own is not valid Unicode, and encodeURIComponent refuses it).
const NEEDS_ESCAPE = /[^\x21\x23-\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]/gu

/**
 * Flask-Login's remember cookie, `id|HMAC-SHA512`: no expiry, no version, no revocation. For
 * apps migrating from Flask-Login only; `sealed` is the default.
 */
export class FlaskRememberCodec implements RememberCodec {
  readonly #keys: Buffer[]
  readonly #name: string

  constructor(secrets: readonly string[], name: string) {
    this.#name = name
    // Flask-Login encodes a str secret as latin-1; secrets outside that range fall back to UTF-8.
    this.#keys = secrets.map((s) => Buffer.from(s, isLatin1(s) ? 'latin1' : 'utf8'))
  }

  encode(userId: UserId): string {
    const signed = encodeCookie(String(userId), this.#keys[0]!)
    const bar = signed.lastIndexOf('|')
    return `${escapeId(signed.slice(0, bar))}${signed.slice(bar)}`
  }

  decode(value: string): RememberDecoded {
    if (isOversized(this.#name, value)) return { ok: false, reason: 'oversized' }
    const bar = value.lastIndexOf('|')
    if (bar <= 0) return { ok: false, reason: 'malformed' }
    let id: string
    try {
      id = decodeURIComponent(value.slice(0, bar))
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    const unescaped = `${id}${value.slice(bar)}`
    const [current, ...older] = this.#keys
    let payload = decodeCookie(unescaped, current as Buffer)
    const rotated = payload === null && older.length > 0
    if (rotated) payload = decodeCookie(unescaped, older)
    if (payload === null) return { ok: false, reason: 'signature' }
    return { ok: true, userId: payload, version: undefined, duration: undefined, rotated }
  }

  isEnded(): boolean {
    return false
  }

  revoke(): void {}
}

function escapeId(id: string): string {
  return id.replace(NEEDS_ESCAPE, (c) => encodeURIComponent(c))
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false
  return true
}
