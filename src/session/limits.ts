/**
 * The limits login-manager puts on what it keeps in a session, and the byte arithmetic behind
 * them. Every size is in bytes of UTF-8 JSON, the way the session is encoded before it is sealed
 * into a cookie (store records are measured by their own encoding, see `record-json.ts`).
 *
 * @module
 */

/** Flash messages kept at once; a new one beyond this drops the oldest. */
export const MAX_FLASHES = 32

/**
 * Bytes the whole flash queue may take as JSON (`[["category","message"],…]`); a new message
 * beyond this drops the oldest ones, and a single message longer than this is shortened.
 */
export const FLASH_QUEUE_BYTES = 1536

/**
 * Bytes a string user id may take as JSON (quotes excluded) in a sealed cookie session: 1024
 * ASCII characters, fewer when characters need escaping or several UTF-8 bytes.
 */
export const MAX_COOKIE_USER_ID_BYTES = 1024

/** Bytes a string `sessionVersion` may take as JSON (quotes excluded). */
export const MAX_VERSION_BYTES = 128

/** Bytes of UTF-8 in `text` (lone surrogates count as the three bytes of U+FFFD). */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** Bytes of `value` as UTF-8 JSON (`JSON.stringify` escapes lone surrogates, so this is exact). */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value)
  return json === undefined ? 0 : utf8Bytes(json)
}

/** Bytes one code point takes inside a JSON string, as `JSON.stringify` writes it. */
function codePointJsonBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2 // \" \\
  if (cp < 0x20) return cp === 8 || cp === 9 || cp === 10 || cp === 12 || cp === 13 ? 2 : 6
  if (cp < 0x80) return 1
  if (cp < 0x800) return 2
  if (cp >= 0xd800 && cp <= 0xdfff) return 6 // a lone surrogate, written as \udXXX
  return cp < 0x10000 ? 3 : 4
}

const ELLIPSIS = '…'

/**
 * `text` shortened at a code point boundary, with `…` appended, so that its JSON (quotes
 * included) takes at most `maxBytes`; `text` itself when it already fits.
 */
export function truncateToJsonBytes(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) return text
  let used = 2 + utf8Bytes(ELLIPSIS)
  let end = 0
  while (end < text.length) {
    const cp = text.codePointAt(end) as number
    const cost = codePointJsonBytes(cp)
    if (used + cost > maxBytes) break
    used += cost
    end += cp > 0xffff ? 2 : 1
  }
  return used > maxBytes ? '' : text.slice(0, end) + ELLIPSIS
}
