import type { AuthState, Session } from '../session/session.ts'
import type { CookieRejection } from '../shared/rejections.ts'
import type { UserId, UserLike } from '../shared/types.ts'
import { type KeepOnLogin, MAX_COOKIE_AGE } from './options.ts'
import type { RememberStrategy } from './remember/strategy.ts'
import type { RequestState } from './request-state.ts'
import { describeValue, parseKeep } from './resolve-options.ts'
import { checkUserArgument } from './user-argument.ts'

/** Options of `loginUser`. Durations are in seconds. */
export interface LoginOptions {
  /** Also set the remember-me cookie, so the login survives the end of the browser session. @default false */
  remember?: boolean
  /** Remember-me lifetime for this login, in seconds. @default options.remember.duration */
  duration?: number
  /** Log in even an inactive user. @default false */
  force?: boolean
  /** Mark the login fresh (interactive). @default true */
  fresh?: boolean
  /**
   * Which of the session's data survives this login: `'all'`, `'none'` or a list of keys. Flash
   * messages and a `next` kept in the session always survive; another user's data never does.
   * @default options.session.keepOnLogin ('all')
   */
  keep?: KeepOnLogin
}

/** A login to write, once its options are checked: `null` when the user may not log in. */
export interface CheckedLogin {
  readonly remember: boolean
  readonly duration: number | undefined
  readonly fresh: boolean
  readonly keep: KeepOnLogin
}

/**
 * Checks `loginUser`'s arguments (Flask's `login_user`).
 * @throws TypeError when `user` is not an object, for a `duration` that is not seconds, or a bad `keep`.
 */
export function checkLogin(
  user: object,
  options: LoginOptions,
  defaultKeep: KeepOnLogin,
): CheckedLogin | null {
  checkUserArgument('loginUser', user)
  const { remember = false, duration, force = false, fresh = true } = options
  if (duration !== undefined && !isSeconds(duration)) {
    throw new TypeError(
      `duration must be a number of seconds between 1 and ${MAX_COOKIE_AGE}, instead got: ${String(duration)}`,
    )
  }
  const keep = options.keep === undefined ? defaultKeep : parseKeep(options.keep)
  if (keep === undefined) {
    throw new TypeError(
      `keep must be 'all', 'none' or an array of session keys, instead got: ${describeValue(options.keep)}`,
    )
  }
  if (!force && (user as UserLike).isActive === false) return null
  return { remember, duration, fresh: fresh !== false, keep }
}

/**
 * Writes a login into the session: a new session identity, the user id, freshness and the
 * session-protection identifier, and the remember-me cookie to set (or the old one to delete).
 */
export function writeLogin<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  strategy: RememberStrategy,
  session: Session,
  user: User,
  id: Id,
  login: CheckedLogin,
): void {
  const { manager, options } = state
  const previous = session._auth
  carryOver(state, session, id, login.keep)
  // With store remember tokens, the session record names the token of its device, so that
  // revoking the session revokes the token too (`null`: no token on this device any more).
  const reserved = login.remember ? strategy.reserve(id) : undefined
  manager._backend.linkRemember?.(session, reserved?.key ?? null)
  session._rotate = true
  state.endPresented = true
  session._createdAt = state.nowSeconds()
  state.loginFrom = null
  state.endsLogin = true
  session._setAuth(
    compact<AuthState>({
      userId: id,
      fresh: login.fresh,
      identifier: state.identifier(),
      rememberSeconds: login.remember ? login.duration : undefined,
      version: manager._versionOf(user),
      next: previous.next,
    }),
  )
  if (login.remember) {
    state.remember.issue(login.duration ?? options.remember.duration, reserved?.selector)
  } else if (state.cookie(options.remember.name) !== undefined) {
    // A remember cookie left by an earlier login must not outlive this one (or restore another user).
    state.remember.clear()
  } else {
    // Nor may a token an earlier loginUser of this same request asked for (another user's).
    state.remember.reset()
  }
}

/** Drops the login from the session (app data stays), with a new identity and no remember cookie. */
export function writeLogout<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  session: Session,
): void {
  if (Object.keys(session._auth).length > 0) session._setAuth({})
  session._rotate = true
  state.endPresented = true
  state.remember.clear()
  state.endsLogin = true
}

/** Flask's `confirm_login`: the login is fresh again, bound to this client. */
export function writeConfirmation<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  session: Session,
): void {
  if (session._auth.userId === undefined) return
  session._patchAuth({ fresh: true, identifier: state.identifier() })
  session._rotate = true
  state.endsLogin = true
}

/**
 * A remember-me restore is a new login: new session identity, not fresh, bound to this client
 * (Flask-Login stores no identifier on a restore, so strong protection then logs the user out
 * on the next request), keeping the data `session.keepOnLogin` says. `rememberKey`: the store token it
 * came from, which the session record then names.
 */
export function writeRestoredLogin<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  session: Session,
  userId: UserId,
  duration: number | undefined,
  version: string | number | undefined,
  rememberKey: string | null,
): void {
  const { options } = state
  carryOver(state, session, userId, options.session.keepOnLogin)
  // A login restored from a store token stands on it: not written once the token is gone.
  state.manager._backend.linkRemember?.(session, rememberKey, rememberKey !== null)
  session._rotate = true
  state.endPresented = true
  session._createdAt = state.nowSeconds()
  session._setAuth(
    compact<AuthState>({
      userId,
      fresh: false,
      identifier: state.identifier(),
      rememberSeconds: duration === options.remember.duration ? undefined : duration,
      version,
      next: session._auth.next,
    }),
  )
}

/**
 * Removes a login the user loader no longer vouches for, keeping only `next` (Flask-Login keeps
 * the stale user id in the session).
 */
export function dropLogin<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  session: Session,
  reason: CookieRejection,
): void {
  const { next, userId } = session._auth
  state.droppedUserId = userId
  session._setAuth(compact<AuthState>({ next }))
  session._rotate = true
  state.reject('session', reason)
}

/**
 * What of the session a login of `userId` keeps: what `keep` says, or nothing (flashes and
 * `next` aside) when the session was another user's, even one whose login this request dropped.
 */
function carryOver<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  session: Session,
  userId: UserId,
  keep: KeepOnLogin,
): void {
  const owner = session._auth.userId ?? state.droppedUserId
  if (owner !== undefined && String(owner) !== String(userId)) session._dropData()
  else if (keep !== 'all') {
    for (const key of session.keys()) {
      if (keep === 'none' || !keep.includes(key)) session.delete(key)
    }
  }
}

function isSeconds(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= MAX_COOKIE_AGE
  )
}

/** Drops `undefined` fields, so optional login fields are absent rather than undefined. */
function compact<T extends object>(input: { [K in keyof T]: T[K] | undefined }): T {
  for (const key of Object.keys(input) as (keyof T)[]) {
    if (input[key] === undefined) delete input[key]
  }
  return input as T
}
