import type { Session } from '../../session/session.ts'
import type { UserId } from '../../shared/types.ts'
import { writeRestoredLogin } from '../login.ts'
import type { RequestState } from '../request-state.ts'
import type {
  SeriesEnded,
  StoreRememberTokens,
  TokenRefusal,
  TokenRotation,
} from './store-tokens.ts'
import {
  type RememberStrategy,
  refusalOf,
  rememberCookie,
  rememberDeletionCookie,
} from './strategy.ts'

/**
 * Remember-me tokens kept in the session store (server-side sessions): single-use, rotated at
 * each restore, deleted at logout and by "log out everywhere".
 */
export class StoreRememberStrategy implements RememberStrategy {
  readonly tokens: StoreRememberTokens

  constructor(tokens: StoreRememberTokens) {
    this.tokens = tokens
  }

  /**
   * The token is checked, then the user loaded and accepted, and only then rotated (a token of a
   * user who may not log in is revoked, never re-issued). The rotation is confirmed at commit,
   * when the response is known to carry it.
   */
  *restore<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    session: Session,
  ): Generator<unknown, User | null, unknown> {
    const value = state.cookie(state.options.remember.name)
    const loader = state.manager.userCallback
    if (value === undefined || loader === undefined || state.storeDown) return null
    const now = state.nowSeconds()
    const checked = yield* fromStore(state, this.tokens.check(value, now))
    if (checked === undefined) return null
    if (!checked.ok) return yield* this.#refuse(state, checked)
    const user = ((yield loader(checked.userId as Id)) as User | null | undefined) ?? null
    const refusal = refusalOf(state, user, checked.version)
    if (refusal !== undefined) {
      state.reject('remember', refusal)
      state.remember.clear()
      return null
    }
    const rotated = yield* fromStore<TokenRotation, User, Id, Auth>(
      state,
      this.tokens.rotate(checked, now),
    )
    if (rotated === undefined) return null
    if (!rotated.ok) return yield* this.#refuse(state, rotated)
    writeRestoredLogin(
      state,
      session,
      checked.userId,
      checked.duration,
      checked.version,
      checked.key,
    )
    // Within the grace window the request keeps its own cookie: nothing to send.
    if (rotated.next !== undefined) state.remember.rotated(rotated.next, rotated.confirm)
    state.manager.emit('userLoadedFromCookie', { auth: state.auth, user: user as User })
    return user as User
  }

  carriesFor<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    userId: UserId,
  ): boolean {
    // Signed by us and of this user's hash tag; the store itself is checked when it is touched.
    const value = state.cookie(state.options.remember.name)
    return value !== undefined && this.tokens.belongsTo(value, userId)
  }

  reserve(userId: UserId): { selector: string; key: string } {
    return this.tokens.reserve(userId)
  }

  deviceKey<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
  ): string | undefined {
    const presented = state.cookie(state.options.remember.name)
    if (presented === undefined) return undefined
    const change = state.remember.change
    return this.tokens.keyOf(change.kind === 'rotated' ? change.value : presented)
  }

  commit<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    session: Session | undefined,
    cookies: string[],
  ): (() => Promise<void>) | undefined {
    const r = state.options.remember
    const change = state.remember.change
    const presented = state.cookie(r.name)
    if (change.kind === 'clear') {
      cookies.push(rememberDeletionCookie(state))
      // Tokens die with the cookie: a copy replayed after logout is refused.
      if (presented !== undefined) state.track(this.tokens.revoke(presented))
      return undefined
    }
    const userId = session?._auth.userId
    if (userId === undefined || session === undefined || state.loginEndedMeanwhile(session)) {
      return undefined
    }
    const now = state.nowSeconds()
    if (change.kind === 'issue') {
      if (presented !== undefined) state.track(this.tokens.revoke(presented))
      const version = session._auth.version
      const issued = this.tokens.issue(userId, change.duration, version, now, change.selector)
      state.track(issued.pending)
      cookies.push(rememberCookie(state, issued.value, change.duration))
      return undefined
    }
    const duration = session._auth.rememberSeconds ?? r.duration
    if (change.kind === 'rotated') {
      // Send the new validator, and confirm the rotation once the session it restored is
      // written (until then, and if this response fails, the replaced validator stays valid:
      // the browser still holds it).
      cookies.push(rememberCookie(state, change.value, duration))
      return change.confirm
    }
    // Flask-Login PR #899: refresh only a valid cookie the request carried, for this user.
    if (!r.refreshEachRequest || presented === undefined || !this.carriesFor(state, userId)) {
      return undefined
    }
    // The value sent again is rebuilt from its verified parts, never copied from the request.
    const refreshed = this.tokens.refresh(presented, duration, now)
    if (refreshed === undefined) return undefined
    state.track(refreshed.pending)
    cookies.push(rememberCookie(state, refreshed.value, duration))
    return undefined
  }

  /**
   * A store token that does not log in: its cookie is deleted (and the token revoked) at commit.
   * A replaced validator that came back means the cookie was copied: the series' sessions and
   * every remember-me token of the user are ended first, and `rememberTokenReused` says what went.
   */
  *#refuse<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    refusal: TokenRefusal,
  ): Generator<unknown, null, unknown> {
    const { reason, userId, key } = refusal
    if (reason === 'reused' && userId !== undefined && key !== undefined) {
      const ended: SeriesEnded = { sessions: 0, tokens: 0 }
      yield* fromStore(state, this.tokens.endSeries(userId, key, ended))
      state.manager.emit('rememberTokenReused', {
        auth: state.auth,
        userId: userId as Id,
        ended: { ...ended },
      })
    }
    state.reject('remember', reason)
    state.remember.clear()
    return null
  }
}

/** A store step of a remember-me restore; `undefined` when the store failed. */
function* fromStore<T, User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  operation: Promise<T>,
): Generator<unknown, T | undefined, unknown> {
  try {
    return (yield operation) as T
  } catch (error) {
    // 'fail': the guards and the response answer 503 (unless another loader finds a user).
    state.storeOutcome = state.storeFailed('remember', error) ?? undefined
    return undefined
  }
}
