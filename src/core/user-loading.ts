import type { Session } from '../session/session.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { UserId } from '../shared/types.ts'
import { dropLogin } from './login.ts'
import type { RememberStrategy } from './remember/strategy.ts'
import type { RequestState } from './request-state.ts'
import { protectionVerdict } from './session-protection.ts'
import { runSyncOrAsync } from './sync-or-async.ts'

/**
 * The current user of one request (Flask's `current_user` machinery), loaded at most once: from
 * the session's login, else the remember-me cookie, else the request loader. One algorithm for
 * both the synchronous `auth.user` and the asynchronous `getUser()`: it stays synchronous for as
 * long as the loaders and the session are.
 */
export class UserLoading<User extends object, Id extends UserId, Auth> {
  readonly #state: RequestState<User, Id, Auth>
  readonly #remember: RememberStrategy
  #loaded = false
  #user: User | null = null
  #pending: Promise<User | null> | undefined

  constructor(state: RequestState<User, Id, Auth>, remember: RememberStrategy) {
    this.#state = state
    this.#remember = remember
  }

  get loaded(): boolean {
    return this.#loaded
  }

  /** The loaded user; meaningful once {@link loaded}. */
  get user(): User | null {
    return this.#user
  }

  /** The loading in flight, if an asynchronous one is. */
  get pending(): Promise<User | null> | undefined {
    return this.#pending
  }

  /** Records the user a login or logout of this request decided. */
  set(user: User | null): void {
    this.#user = user
    this.#loaded = true
    this.#pending = undefined
  }

  /**
   * The user, synchronously when everything on the way is, else a promise. Starts the loading
   * unless it ran or is running.
   */
  load(): User | null | Promise<User | null> {
    if (this.#loaded) return this.#user
    if (this.#pending !== undefined) return this.#pending
    const result = runSyncOrAsync(this.#loadUser())
    if (!(result instanceof Promise)) {
      this.set(result)
      return result
    }
    this.#pending = result.then(
      (user) => {
        if (!this.#loaded) this.set(user)
        return this.#user
      },
      (error) => {
        this.#pending = undefined
        throw error
      },
    )
    return this.#pending
  }

  *#loadUser(): Generator<unknown, User | null, unknown> {
    const state = this.#state
    const { manager } = state
    if (manager.userCallback === undefined && manager.requestCallback === undefined) {
      throw new LoginManagerError(
        'ERR_NO_USER_LOADER',
        'no user loader: pass `userLoader` (or `requestLoader`) to new LoginManager(), or call manager.userLoader(fn) before handling requests',
      )
    }
    if (manager.hasListeners('userAccessed')) manager.emit('userAccessed', { auth: state.auth })
    const session = yield* this.#session()
    let user: User | null = null
    if (session._auth.userId !== undefined) {
      // A login that protection drops is not replaced by another loader in the same request.
      if (!this.#protect(session)) return null
      user = yield* this.#fromSession(session, session._auth.userId)
    }
    if (user === null && !state.remember.cleared) {
      user = (yield* this.#remember.restore(state, session)) ?? null
    }
    const requestLoader = manager.requestCallback
    if (user === null && requestLoader !== undefined) {
      user = ((yield requestLoader(state.request, state.auth)) as User | null | undefined) ?? null
      if (user !== null) manager.emit('userLoadedFromRequest', { auth: state.auth, user })
    }
    return user
  }

  /**
   * The session: loaded, a cookie session, or no session cookie at all need no waiting. A store
   * session nobody loaded yet (a handler outside the guards and middleware) is loaded here; if
   * the store fails, the request is anonymous, and with `onStoreError: 'fail'` it answers 503
   * (as when the adapter loads it).
   */
  *#session(): Generator<unknown, Session, unknown> {
    const state = this.#state
    if (state.session !== undefined || state.manager._backend.sync || !state.hasSessionCookie) {
      return state.sessionNow()
    }
    try {
      return (yield state.loadSession()) as Session
    } catch (error) {
      state.storeOutcome = state.storeFailed('load', error) ?? undefined
      // Go on with the empty session storeFailed made: a request loader may still vouch.
      return state.sessionNow()
    }
  }

  /** The session's user, as the user loader answers for it; a login it refuses is dropped. */
  *#fromSession(session: Session, id: UserId): Generator<unknown, User | null, unknown> {
    const state = this.#state
    const loader = state.manager.userCallback
    if (loader === undefined) return null
    const answer = (yield loader(id as Id)) as User | null | undefined
    const user = answer ?? null
    if (user === null) {
      state.manager._checkLostLogin(id, answer, state.nowSeconds() - session._createdAt)
      dropLogin(state, session, 'unknown-user')
      return null
    }
    if (!state.manager._versionMatches(user, session._auth.version)) {
      dropLogin(state, session, 'revoked')
      state.remember.clear()
      return null
    }
    return user
  }

  /** Applies session protection; false when the login was dropped. */
  #protect(session: Session): boolean {
    const state = this.#state
    const mode = state.options.sessionProtection
    const verdict = protectionVerdict(mode, session._auth, session.permanent, () =>
      state.identifier(),
    )
    if (verdict === 'keep' || mode === null) return true
    if (verdict === 'bind') {
      // Sessions made by the testing helper bind to the first client that uses them.
      session._patchAuth({ identifier: state.identifier() })
      return true
    }
    if (verdict === 'demote') {
      if (session._auth.fresh !== false) session._patchAuth({ fresh: false })
      state.manager.emit('sessionProtected', { auth: state.auth, mode })
      return true
    }
    session._setAuth({})
    session._rotate = true
    state.remember.clear()
    state.endsLogin = true
    state.manager.emit('sessionProtected', { auth: state.auth, mode })
    return false
  }
}
