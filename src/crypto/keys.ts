import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { LoginManagerError } from '../shared/errors.ts'

/**
 * One 32-byte key derived from one configured secret for one purpose.
 *
 * `id` is public (it travels inside sealed and signed values so the verifier can pick the key
 * without trial decryption); `raw` and `key` are secret.
 */
export interface DerivedKey {
  /** 8 base64url characters naming this key; not secret. */
  readonly id: string
  /** The 32 derived bytes. Never log or send them. */
  readonly raw: Buffer
  /** `raw` as a secret `KeyObject`, usable for AES-256-GCM and HMAC alike. */
  readonly key: KeyObject
}

/** All keys of one purpose: `current` (derived from the first secret) seals/signs; every key verifies. */
export interface PurposeKeys {
  /** The HKDF `info` the keys were derived with, e.g. `'session'` or `'remember'`. */
  readonly purpose: string
  /** The key new values are sealed or signed with: the one derived from the first secret. */
  readonly current: DerivedKey
  /** Every key of this purpose (current and older ones) by its id, for verification. */
  readonly byId: ReadonlyMap<string, DerivedKey>
}

/** Fixed HKDF salt: versions the derivation so a future scheme cannot collide with this one. */
const HKDF_SALT = Buffer.from('login-manager/v1', 'utf8')
/** Length of every derived key: AES-256 and HMAC-SHA256 both want 32 bytes. */
const KEY_BYTES = 32
/** Length of a key id in base64url characters (48 bits: plenty to tell a handful of keys apart). */
export const KEY_ID_LENGTH = 8

/**
 * Derives per-purpose keys from the configured secrets, so one secret never keys two different
 * jobs directly (a session seal cannot be replayed as a remember token, and the reverse).
 *
 * The list order is the rotation order: the first secret is current and seals or signs; the others
 * only verify, so values issued under an older secret keep working until it is removed.
 *
 * @example
 * ```ts
 * const ring = new KeyRing([process.env.SECRET_NEW!, process.env.SECRET_OLD!])
 * const sessionKeys = ring.forPurpose('session')
 * ```
 */
export class KeyRing {
  /** UTF-8 bytes of each secret, encoded once here rather than on every derivation. */
  readonly #secrets: readonly Buffer[]
  /** Derivation is costly compared to a request, so each purpose is derived at most once. */
  readonly #cache = new Map<string, PurposeKeys>()

  /**
   * @param secrets Already validated non-empty strings (length and weakness are checked by the
   *   option resolver, not here). The first is current.
   * @throws {LoginManagerError} `ERR_SECRET_MISSING` when the list is empty.
   */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) {
      throw new LoginManagerError('ERR_SECRET_MISSING', 'secret: give at least one secret')
    }
    this.#secrets = secrets.map((secret) => Buffer.from(secret, 'utf8'))
  }

  /**
   * Derives (and caches) 32-byte keys for a purpose with
   * HKDF-SHA256(ikm = UTF-8 secret, salt = 'login-manager/v1', info = purpose).
   *
   * Call it once per purpose at start-up so that a duplicated secret fails then, not mid-request.
   *
   * @throws {LoginManagerError} `ERR_INVALID_OPTION` when two secrets derive the same key id,
   *   i.e. the same secret is listed twice.
   */
  forPurpose(purpose: string): PurposeKeys {
    const cached = this.#cache.get(purpose)
    if (cached !== undefined) return cached
    const info = Buffer.from(purpose, 'utf8')
    const byId = new Map<string, DerivedKey>()
    let current: DerivedKey | undefined
    for (const ikm of this.#secrets) {
      const derived = deriveKey(ikm, info)
      // A repeated id means the same bytes twice (or a 48-bit collision, which is as good as
      // impossible); either way one entry would silently shadow the other, so refuse to start.
      if (byId.has(derived.id)) {
        throw new LoginManagerError(
          'ERR_INVALID_OPTION',
          'secret: the same secret is listed twice; remove the duplicate',
        )
      }
      byId.set(derived.id, derived)
      current ??= derived
    }
    const keys: PurposeKeys = Object.freeze({ purpose, current: current!, byId })
    this.#cache.set(purpose, keys)
    return keys
  }
}

/** One HKDF derivation plus the key id, which is a MAC of a constant so it reveals nothing. */
function deriveKey(ikm: Buffer, info: Buffer): DerivedKey {
  const raw = Buffer.from(hkdfSync('sha256', ikm, HKDF_SALT, info, KEY_BYTES))
  const id = createHmac('sha256', raw).update('key-id').digest('base64url').slice(0, KEY_ID_LENGTH)
  return Object.freeze({ id, raw, key: createSecretKey(raw) })
}

/** RFC 4648 §5 base64url alphabet, unpadded. One character class, so no backtracking is possible. */
const BASE64URL = /^[A-Za-z0-9_-]*$/
/** The alphabet in value order, to read the value of a final character. */
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Whether `s` is canonical unpadded base64url: only alphabet characters, a length that some byte
 * string encodes to, and zero unused bits in the last character. Rejecting the non-canonical
 * spellings (which Node's lenient decoder would accept) means each value has exactly one accepted
 * encoding.
 *
 * @internal Shared by `seal.ts` and `sign.ts`; not part of the package's API.
 */
export function isCanonicalBase64url(s: string): boolean {
  const rem = s.length & 3
  if (rem === 1 || !BASE64URL.test(s)) return false
  if (rem === 0) return true
  // 2 trailing chars carry 1 byte (4 spare bits); 3 carry 2 bytes (2 spare bits).
  const last = BASE64URL_ALPHABET.indexOf(s[s.length - 1]!)
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0
}
