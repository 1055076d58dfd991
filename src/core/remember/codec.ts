import type { CookieRejection } from '../../shared/rejections.ts'
import type { UserId } from '../../shared/types.ts'

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

/** Encodes and verifies remember-me cookies of one format (`sealed` or `flask`). */
export interface RememberCodec {
  /**
   * A cookie value for `userId`, valid for `duration` seconds from `nowSeconds`. `id`: the id of
   * the token this one re-issues (a refresh or a re-seal under a new key keeps it, so revoking
   * it ends every copy); a new token gets a new id. Formats without ids ignore it.
   */
  encode(
    userId: UserId,
    duration: number,
    version: string | number | undefined,
    nowSeconds: number,
    id?: string,
  ): string
  /** Verifies a cookie value (a revoked sealed token is `ended`); never throws. */
  decode(value: string, nowSeconds: number): RememberDecoded
  /** True when a decoded token has been revoked since (a logout while its request ran). */
  isEnded(decoded: RememberDecoded): boolean
  /**
   * Revokes the token a cookie value carries, until it could not be valid anyway. Formats
   * without revocation, tokens without an id and values that do not verify change nothing.
   */
  revoke(value: string, nowSeconds: number): void
}

/** Longer cookies are refused unread: a browser keeps no cookie over 4096 bytes. */
export function isOversized(name: string, value: string): boolean {
  return value.length + name.length + 1 > 4096
}
