import { createCipheriv, createDecipheriv } from 'node:crypto'
import { isCanonicalBase64url, KEY_ID_LENGTH, type PurposeKeys } from './keys.ts'
import { pooledRandomBytes } from './random.ts'

/** Format version; anything else (including a missing or older prefix) is refused. */
const PREFIX = 'v1.'
const CIPHER = 'aes-256-gcm'
/** 96-bit IVs are GCM's native size; random ones are safe for 2^32 seals per key (NIST SP 800-38D). */
const IV_BYTES = 12
const TAG_BYTES = 16
/** Index of the '.' after the key id: 'v1.' + 8 id characters. */
const ID_END = PREFIX.length + KEY_ID_LENGTH
/** Shortest possible body: base64url of an IV and a tag around an empty ciphertext. */
const MIN_BODY_CHARS = Math.ceil(((IV_BYTES + TAG_BYTES) * 4) / 3)
const MIN_SEALED_CHARS = ID_END + 1 + MIN_BODY_CHARS
/** Passing the tag length explicitly stops a shortened tag from being accepted. */
const GCM_OPTIONS = { authTagLength: TAG_BYTES } as const

/** Outcome of {@link unseal}. `rotated` is true when a key other than `keys.current` opened it. */
export type UnsealResult =
  | { ok: true; plaintext: string; rotated: boolean }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'decrypt' }

// Failures carry no data, so they are shared frozen objects rather than fresh allocations.
const MALFORMED: UnsealResult = Object.freeze({ ok: false, reason: 'malformed' })
const UNKNOWN_KEY: UnsealResult = Object.freeze({ ok: false, reason: 'unknown-key' })
const DECRYPT: UnsealResult = Object.freeze({ ok: false, reason: 'decrypt' })

/**
 * Encrypts and authenticates `plaintext` with the purpose's current key (AES-256-GCM, a fresh
 * random 96-bit IV each call).
 *
 * The result is `v1.<keyId>.<base64url(iv || ciphertext || tag)>`, cookie-safe as is. The
 * authenticated data is `'v1.' + keyId + '.' + aad`, so the version and key id cannot be swapped
 * and a value sealed under one `aad` (e.g. a cookie name) does not open under another.
 *
 * With random IVs, keep under 2^32 seals per key; rotate the secret well before that.
 *
 * @param aad Context the value is bound to, typically the cookie name. Not encrypted, not included.
 * @example
 * ```ts
 * const cookieValue = seal(ring.forPurpose('session'), JSON.stringify(data), 'session')
 * ```
 */
export function seal(keys: PurposeKeys, plaintext: string, aad: string): string {
  const { id, key } = keys.current
  // Cut from random bytes drawn in bulk: every IV is handed out once.
  const iv = pooledRandomBytes(IV_BYTES)
  const cipher = createCipheriv(CIPHER, key, iv, GCM_OPTIONS)
  cipher.setAAD(Buffer.from(`${PREFIX}${id}.${aad}`, 'utf8'))
  const ciphertext = cipher.update(plaintext, 'utf8')
  cipher.final()
  const tag = cipher.getAuthTag()
  const body = Buffer.concat([iv, ciphertext, tag], IV_BYTES + ciphertext.length + TAG_BYTES)
  return `${PREFIX}${id}.${body.toString('base64url')}`
}

/**
 * Checks and decrypts a value made by {@link seal}. Never throws: untrusted input only ever yields
 * `{ ok: false }`, with a reason for logging (`'malformed'` for a structurally wrong value,
 * `'unknown-key'` for a key id that no configured secret derives, `'decrypt'` for a failed
 * authentication: tampering, a wrong `aad`, or a different purpose).
 *
 * The plaintext is returned only after the tag is verified; parsing it is the caller's job.
 *
 * @example
 * ```ts
 * const result = unseal(keys, cookieValue, 'session')
 * if (result.ok) {
 *   data = JSON.parse(result.plaintext) // after the tag check, never before
 *   if (result.rotated) needsReseal = true // opened with an old key: re-issue with the new one
 * }
 * ```
 */
export function unseal(keys: PurposeKeys, sealed: string, aad: string): UnsealResult {
  // Structural checks first: they are cheap and keep garbage away from the cipher.
  if (
    typeof sealed !== 'string' ||
    sealed.length < MIN_SEALED_CHARS ||
    !sealed.startsWith(PREFIX) ||
    sealed.charCodeAt(ID_END) !== 0x2e /* '.' */
  ) {
    return MALFORMED
  }
  const id = sealed.slice(PREFIX.length, ID_END)
  const body = sealed.slice(ID_END + 1)
  if (!isCanonicalBase64url(id) || !isCanonicalBase64url(body)) return MALFORMED
  // The id only selects among configured keys; an unknown one is refused without trying others.
  const derived = keys.byId.get(id)
  if (derived === undefined) return UNKNOWN_KEY
  try {
    const bytes = Buffer.from(body, 'base64url')
    const tagStart = bytes.length - TAG_BYTES
    const decipher = createDecipheriv(CIPHER, derived.key, bytes.subarray(0, IV_BYTES), GCM_OPTIONS)
    decipher.setAAD(Buffer.from(`${PREFIX}${id}.${aad}`, 'utf8'))
    decipher.setAuthTag(bytes.subarray(tagStart))
    let plaintext = decipher.update(bytes.subarray(IV_BYTES, tagStart), undefined, 'utf8')
    // final() verifies the tag and throws on any mismatch; nothing above escapes before it.
    plaintext += decipher.final('utf8')
    return { ok: true, plaintext, rotated: derived !== keys.current }
  } catch {
    return DECRYPT
  }
}
