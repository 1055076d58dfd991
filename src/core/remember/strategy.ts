import { deletionCookie, serializeCookie } from '../../cookie/serialize.ts'
import type { Session } from '../../session/session.ts'
import type { CookieRejection } from '../../shared/rejections.ts'
import type { UserId, UserLike } from '../../shared/types.ts'
import type { RequestState } from '../request-state.ts'

/**
 * How remember-me tokens are issued, checked and ended: a cookie that carries the login itself
 * (sealed, or Flask's format), or a token kept in the session store. The manager chooses one from
 * its options; the per-request change to make lives in the request's `RememberState`.
 */
export interface RememberStrategy {
  /**
   * Restores the login the request's remember cookie carries, if it may be restored: a new
   * login in `session`, not fresh. `null` (the cookie's removal decided) otherwise.
   */
  restore<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    session: Session,
  ): Generator<unknown, User | null, unknown>
  /** True when the request carries a valid remember cookie of `userId`. */
  carriesFor<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    userId: UserId,
  ): boolean
  /**
   * At a login with remember-me: the store token to be issued at commit, reserved now so the
   * session can name it (`undefined` when tokens are not in the store).
   */
  reserve(userId: UserId): { readonly selector: string; readonly key: string } | undefined
  /** The store key of the token this device holds (store tokens only), for "other devices". */
  deviceKey<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
  ): string | undefined
  /**
   * At commit: carries out the request's remember-me change into `cookies`. Returns a write to
   * run once the request's other store writes are in, if any.
   */
  commit<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    session: Session | undefined,
    cookies: string[],
  ): (() => Promise<void>) | undefined
}

/**
 * Why a user loaded for a remember-me cookie may not be logged in by it, if they may not:
 * unknown, inactive (`isActive === false`), or their `sessionVersion` moved on.
 */
export function refusalOf<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  user: User | null,
  version: string | number | undefined,
): CookieRejection | undefined {
  if (user === null) return 'unknown-user'
  if ((user as UserLike).isActive === false) return 'inactive-user'
  return state.manager._versionMatches(user, version) ? undefined : 'revoked'
}

/** The `Set-Cookie` value of a remember cookie valid `duration` seconds. */
export function rememberCookie<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  value: string,
  duration: number,
): string {
  const r = state.options.remember
  return serializeCookie(
    r.name,
    value,
    { ...r.attributes, maxAge: Math.floor(duration) },
    state.options.now(),
  )
}

/** The `Set-Cookie` value deleting the remember cookie, with the attributes it was set with. */
export function rememberDeletionCookie<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
): string {
  const r = state.options.remember
  return deletionCookie(r.name, r.attributes)
}
