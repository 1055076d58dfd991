import { createHmac, timingSafeEqual } from 'node:crypto'
import { isCanonicalBase64url, KEY_ID_LENGTH, type PurposeKeys } from './keys.ts'

/** Length of base64url(HMAC-SHA256), unpadded: 32 bytes -> 43 characters. */
const MAC_CHARS = 43
/** `.<keyId>.<mac>` after the value. */
const SUFFIX_CHARS = 1 + KEY_ID_LENGTH + 1 + MAC_CHARS

/** Outcome of {@link verify}. `rotated` is true when a key other than `keys.current` matched. */
export type VerifyResult =
  | { ok: true; value: string; rotated: boolean }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'signature' }

// Failures carry no data, so they are shared frozen objects rather than fresh allocations.
const MALFORMED: VerifyResult = Object.freeze({ ok: false, reason: 'malformed' })
const UNKNOWN_KEY: VerifyResult = Object.freeze({ ok: false, reason: 'unknown-key' })
const SIGNATURE: VerifyResult = Object.freeze({ ok: false, reason: 'signature' })

/**
 * Appends the purpose's current key id and a full HMAC-SHA256 of `value`:
 * `${value}.${keyId}.${base64url(mac)}`. For opaque ids that must not be forged, not for secrets
 * (the value stays readable).
 *
 * The MAC covers only `value`; the key id is bound implicitly because only that key verifies it.
 *
 * @param value Must not contain '.', which separates the parts (base64url ids never do).
 * @throws {TypeError} When `value` contains '.'.
 * @example
 * ```ts
 * const cookieValue = sign(ring.forPurpose('session-id'), sessionId)
 * ```
 */
export function sign(keys: PurposeKeys, value: string): string {
  if (value.includes('.')) {
    throw new TypeError(`sign(): value must not contain '.'; encode it (e.g. base64url) first`)
  }
  const { id, key } = keys.current
  return `${value}.${id}.${createHmac('sha256', key).update(value, 'utf8').digest('base64url')}`
}

/**
 * Checks a value made by {@link sign}. Never throws: untrusted input only ever yields
 * `{ ok: false }` with a reason for logging. The MAC is compared in constant time, and only after
 * the input has the exact shape a real one has (so `timingSafeEqual` always sees equal lengths).
 *
 * @example
 * ```ts
 * const result = verify(keys, cookieValue)
 * if (result.ok) sessionId = result.value
 * ```
 */
export function verify(keys: PurposeKeys, signed: string): VerifyResult {
  if (typeof signed !== 'string' || signed.length < SUFFIX_CHARS) return MALFORMED
  const valueEnd = signed.length - SUFFIX_CHARS
  const idStart = valueEnd + 1
  const macStart = idStart + KEY_ID_LENGTH + 1
  if (signed.charCodeAt(valueEnd) !== 0x2e /* '.' */ || signed.charCodeAt(macStart - 1) !== 0x2e) {
    return MALFORMED
  }
  const id = signed.slice(idStart, macStart - 1)
  const mac = signed.slice(macStart)
  const value = signed.slice(0, valueEnd)
  // sign() never produces a '.' in the value, so one here means a spliced or re-shaped input.
  if (!isCanonicalBase64url(id) || !isCanonicalBase64url(mac) || value.includes('.')) {
    return MALFORMED
  }
  const derived = keys.byId.get(id)
  if (derived === undefined) return UNKNOWN_KEY
  const expected = createHmac('sha256', derived.key).update(value, 'utf8').digest()
  // Canonical 43-character base64url always decodes to exactly 32 bytes, so timingSafeEqual
  // (which throws on unequal lengths) is safe here without a try/catch.
  const given = Buffer.from(mac, 'base64url')
  if (!timingSafeEqual(expected, given)) return SIGNATURE
  return { ok: true, value, rotated: derived !== keys.current }
}
