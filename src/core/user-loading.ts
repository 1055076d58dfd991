import type { Session } from '../session/session.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { MaybePromise, UserId } from '../shared/types.ts'
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
    const result = this.#loadUser()
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

  // The loading runs as steps that each go on synchronously when what they were given is not a
  // promise, so a cookie session with a synchronous loader never waits for a microtask.

  #loadUser(): MaybePromise<User | null> {
    const { manager } = this.#state
    if (manager.userCallback === undefined && manager.requestCallback === undefined) {
      throw new LoginManagerError(
        'ERR_NO_USER_LOADER',
        'no user loader: pass `userLoader` (or `requestLoader`) to new LoginManager(), or call manager.userLoader(fn) before handling requests',
      )
    }
    if (manager.hasListeners('userAccessed'))
      manager.emit('userAccessed', { auth: this.#state.auth })
    const session = this.#session()
    if (session instanceof Promise) return session.then((loaded) => this.#fromSession(loaded))
    return this.#fromSession(session)
  }

  /**
   * The session: loaded, a cookie session, or no session cookie at all need no waiting. A store
   * session nobody loaded yet (a handler outside the guards and middleware) is loaded here; if
   * the store fails, the request is anonymous, and with `onStoreError: 'fail'` it answers 503
   * (as when the adapter loads it).
   */
  #session(): MaybePromise<Session> {
    const state = this.#state
    if (state.session !== undefined || state.manager._backend.sync || !state.hasSessionCookie) {
      return state.sessionNow()
    }
    return state.loadSession().catch((error: unknown) => {
      state.storeOutcome = state.storeFailed('load', error) ?? undefined
      // Go on with the empty session storeFailed made: a request loader may still vouch.
      return state.sessionNow()
    })
  }

  /** The session's login, as the user loader answers for it. */
  #fromSession(session: Session): MaybePromise<User | null> {
    const id = session._auth.userId
    const loader = this.#state.manager.userCallback
    if (id === undefined) return this.#otherwise(session)
    // A login that protection drops is not replaced by another loader in the same request.
    if (!this.#protect(session)) return null
    if (loader === undefined) return this.#otherwise(session)
    const answer = loader(id as Id)
    if (answer instanceof Promise) {
      return answer.then((user) => this.#checkSessionUser(session, id, user))
    }
    return this.#checkSessionUser(session, id, answer)
  }

  /** A login the user loader refuses (unknown user, `sessionVersion` moved on) is dropped. */
  #checkSessionUser(
    session: Session,
    id: UserId,
    answer: User | null | undefined,
  ): MaybePromise<User | null> {
    const state = this.#state
    if (answer === null || answer === undefined) {
      state.manager._checkLostLogin(id, answer, state.nowSeconds() - session._createdAt)
      dropLogin(state, session, 'unknown-user')
      return this.#otherwise(session)
    }
    if (!state.manager._versionMatches(answer, session._auth.version)) {
      dropLogin(state, session, 'revoked')
      state.remember.clear()
      return this.#otherwise(session)
    }
    return answer
  }

  /** No user from the session: the remember-me cookie, else the request loader. */
  #otherwise(session: Session): MaybePromise<User | null> {
    const state = this.#state
    if (state.remember.cleared && state.manager.requestCallback === undefined) return null
    return runSyncOrAsync(this.#rememberThenRequest(session))
  }

  *#rememberThenRequest(session: Session): Generator<unknown, User | null, unknown> {
    const state = this.#state
    let user: User | null = null
    if (!state.remember.cleared) user = (yield* this.#remember.restore(state, session)) ?? null
    const requestLoader = state.manager.requestCallback
    if (user === null && requestLoader !== undefined) {
      user = ((yield requestLoader(state.request, state.auth)) as User | null | undefined) ?? null
      if (user !== null) state.manager.emit('userLoadedFromRequest', { auth: state.auth, user })
    }
    return user
  }

  /** Applies session protection; false when the login was dropped. */
  #protect(session: Session): boolean {
    const state = this.#state
    const mode = state.options.sessionProtection
    if (mode === null) return true
    const verdict = protectionVerdict(mode, session._auth, session.permanent, state.identifier())
    if (verdict === 'keep') return true
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
