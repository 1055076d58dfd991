import type { Session } from '../../session/session.ts'
import type { UserId } from '../../shared/types.ts'
import { writeRestoredLogin } from '../login.ts'
import type { RequestState } from '../request-state.ts'
import type { RememberCodec, RememberDecoded } from './codec.ts'
import {
  type RememberStrategy,
  refusalOf,
  rememberCookie,
  rememberDeletionCookie,
} from './strategy.ts'

/**
 * Remember-me tokens that carry the login in the cookie itself (`sealed`, the default, or
 * Flask's format), verified by their codec; sealed ones are ended through the revocation list.
 */
export class CookieRememberTokens implements RememberStrategy {
  readonly codec: RememberCodec

  constructor(codec: RememberCodec) {
    this.codec = codec
  }

  *restore<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    session: Session,
  ): Generator<unknown, User | null, unknown> {
    const decoded = this.#decoded(state)
    if (decoded === undefined) return null
    if (!decoded.ok) {
      state.reject('remember', decoded.reason)
      state.remember.clear()
      return null
    }
    const loader = state.manager.userCallback
    if (loader === undefined) return null
    const user = ((yield loader(decoded.userId as Id)) as User | null | undefined) ?? null
    const refusal = refusalOf(state, user, decoded.version)
    if (refusal !== undefined) {
      state.reject('remember', refusal)
      state.remember.clear()
      return null
    }
    writeRestoredLogin(state, session, decoded.userId, decoded.duration, decoded.version, null)
    state.loginFrom = decoded.id ?? null
    // Opened with an older key: sent again, sealed with the current one.
    if (decoded.rotated) {
      state.remember.issue(decoded.duration ?? state.options.remember.duration)
    }
    state.manager.emit('userLoadedFromCookie', { auth: state.auth, user: user as User })
    return user as User
  }

  carriesFor<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    userId: UserId,
  ): boolean {
    const decoded = this.#decoded(state)
    return decoded?.ok === true && String(decoded.userId) === String(userId)
  }

  reserve(): undefined {
    return undefined
  }

  deviceKey(): undefined {
    return undefined
  }

  commit<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
    session: Session | undefined,
    cookies: string[],
  ): undefined {
    const r = state.options.remember
    const change = state.remember.change
    const presented = state.cookie(r.name)
    if (change.kind === 'clear') {
      cookies.push(rememberDeletionCookie(state))
      // A logout (or a login over it) ends the token: a copy replayed afterwards is refused.
      if (presented !== undefined && state.endsLogin)
        this.codec.revoke(presented, state.nowSeconds())
      return
    }
    const userId = session?._auth.userId
    if (userId === undefined || session === undefined || state.loginEndedMeanwhile(session)) return
    const now = state.nowSeconds()
    if (change.kind === 'issue') {
      // Re-sealing the token this login came from keeps its id; a new login ends the old one.
      const from = state.remember.decoded
      const reseal = from?.ok === true && from.id !== undefined && from.id === state.loginFrom
      if (!reseal && presented !== undefined) this.codec.revoke(presented, now)
      const id = reseal ? (from.id as string) : undefined
      const value = this.codec.encode(userId, change.duration, session._auth.version, now, id)
      cookies.push(rememberCookie(state, value, change.duration))
      return
    }
    // Flask-Login PR #899: refresh only a valid cookie the request carried, for this user.
    if (!r.refreshEachRequest || presented === undefined || !this.carriesFor(state, userId)) return
    const decoded = state.remember.decoded
    if (decoded === undefined || this.codec.isEnded(decoded)) return
    const duration = session._auth.rememberSeconds ?? r.duration
    const id = decoded.ok ? decoded.id : undefined
    const value = this.codec.encode(userId, duration, session._auth.version, now, id)
    cookies.push(rememberCookie(state, value, duration))
  }

  #decoded<User extends object, Id extends UserId, Auth>(
    state: RequestState<User, Id, Auth>,
  ): RememberDecoded | undefined {
    if (state.remember.decoded !== undefined) return state.remember.decoded
    const value = state.cookie(state.options.remember.name)
    if (value === undefined) return undefined
    state.remember.decoded = this.codec.decode(value, state.nowSeconds())
    return state.remember.decoded
  }
}
