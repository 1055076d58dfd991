import type { PurposeKeys } from '../../crypto/keys.ts'
import { seal, unseal } from '../../crypto/seal.ts'
import { newRevocationId, REVOCATION_ID, type RevocationList } from '../../session/revocations.ts'
import type { CookieRejection } from '../../shared/rejections.ts'
import type { UserId } from '../../shared/types.ts'
import { isOversized, type RememberCodec, type RememberDecoded } from './codec.ts'

/** A revoked token's entry outlives its expiry by this much, for clocks a little apart. */
const REVOKE_MARGIN_SECONDS = 60

/**
 * The default remember cookie: sealed (AES-256-GCM) with the user id, an expiry checked here,
 * the user's `sessionVersion` and an id that the revocation list can end (cookie sessions).
 */
export class SealedRememberCodec implements RememberCodec {
  readonly #keys: PurposeKeys
  readonly #name: string
  readonly #revoked: RevocationList | undefined

  constructor(keys: PurposeKeys, name: string, revoked?: RevocationList) {
    this.#keys = keys
    this.#name = name
    this.#revoked = revoked
  }

  encode(
    userId: UserId,
    duration: number,
    version: string | number | undefined,
    nowSeconds: number,
    id: string = newRevocationId(),
  ): string {
    const body: Record<string, unknown> = {
      i: id,
      u: userId,
      e: Math.floor(nowSeconds + duration),
      d: duration,
    }
    if (version !== undefined) body.v = version
    return seal(this.#keys, JSON.stringify(body), this.#name)
  }

  decode(value: string, nowSeconds: number): RememberDecoded {
    if (isOversized(this.#name, value)) return { ok: false, reason: 'oversized' }
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

  isEnded(decoded: RememberDecoded): boolean {
    return decoded.ok && decoded.id !== undefined && this.#revoked?.has(decoded.id) === true
  }

  /**
   * Revokes the token until its expiry, or a full duration from now (an instance that has not
   * heard yet may still re-issue it), whichever is later.
   */
  revoke(value: string, nowSeconds: number): void {
    if (this.#revoked === undefined || isOversized(this.#name, value)) return
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
