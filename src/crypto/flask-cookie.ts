import { createHmac, timingSafeEqual } from 'node:crypto'

/** HMAC-SHA512 is 64 bytes, written as 128 lower-case hex digits. */
const DIGEST_HEX_CHARS = 128

/** Whether every character is latin-1 (U+0000-U+00FF), as Python's `str.encode('latin-1')` needs. */
function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

/**
 * For each char code below 128: 1 for a lower-case hex digit. Python's `hexdigest()` is lower
 * case and Flask-Login compares the strings, so upper case never matched there either.
 */
const LOWER_HEX = new Uint8Array(128)
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1

/**
 * Flask-Login's `_secret_key()`: a string key becomes one byte per character (latin-1), bytes are
 * used as they are. UTF-8 here would give different MACs for any key with a character above 0x7F.
 */
function keyBytes(key: string | Uint8Array): Uint8Array {
  if (typeof key !== 'string') return key
  if (!isLatin1(key)) {
    throw new TypeError(
      'Flask-Login cookie key: a string key may only hold characters U+0000-U+00FF (latin-1); ' +
        'pass the key as bytes instead',
    )
  }
  return Buffer.from(key, 'latin1')
}

/**
 * Makes a remember cookie value in Flask-Login's exact format (`encode_cookie`):
 * `${payload}|${hex(HMAC-SHA512(key, UTF-8 payload))}`, so that cookies can move between a Flask
 * app and this library during a migration.
 *
 * The value has no expiry or purpose inside it; prefer the library's own remember tokens and use
 * this only for compatibility.
 *
 * @param key The Flask `SECRET_KEY`: a string (encoded as latin-1, like Flask-Login) or bytes.
 * @throws {TypeError} When a string key holds a character above U+00FF.
 * @example
 * ```ts
 * encodeCookie('1', 'deterministic') // '1|0e9e6e98…4b82ae'
 * ```
 */
export function encodeCookie(payload: string, key: string | Uint8Array): string {
  return `${payload}|${createHmac('sha512', keyBytes(key)).update(payload, 'utf8').digest('hex')}`
}

/**
 * Reads a value made by {@link encodeCookie} (Flask-Login's `decode_cookie`): splits on the last
 * '|' and checks the digest in constant time. Returns the payload, or `null` for anything else;
 * untrusted input never throws.
 *
 * @param key One key, or several tried in order (key rotation: newest first).
 * @throws {TypeError} Only for a bad `key` (a string key with a character above U+00FF), which is
 *   a configuration mistake, never for a bad `cookie`.
 * @example
 * ```ts
 * decodeCookie(request.cookies.remember_token, [newKey, oldKey]) // '1' or null
 * ```
 */
export function decodeCookie(
  cookie: string,
  key: string | Uint8Array | readonly (string | Uint8Array)[],
): string | null {
  if (typeof cookie !== 'string') return null
  const bar = cookie.lastIndexOf('|')
  // A digest of the wrong length can never match: refuse before any crypto.
  if (bar === -1 || cookie.length - bar - 1 !== DIGEST_HEX_CHARS) return null
  for (let i = bar + 1; i < cookie.length; i++) {
    const c = cookie.charCodeAt(i)
    if (c >= 128 || LOWER_HEX[c] === 0) return null
  }
  // Checked hex of the right length decodes to exactly 64 bytes, so lengths always agree below.
  const given = Buffer.from(cookie.slice(bar + 1), 'hex')
  const payload = cookie.slice(0, bar)
  const keys: readonly (string | Uint8Array)[] =
    typeof key === 'string' || key instanceof Uint8Array ? [key] : key
  for (const k of keys) {
    const expected = createHmac('sha512', keyBytes(k)).update(payload, 'utf8').digest()
    if (timingSafeEqual(expected, given)) return payload
  }
  return null
}
