import type { Flash, Session } from '../session/session.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { AdapterRequest, UserId, UserLike } from '../shared/types.ts'
import { commitResponse, type ResponseEffects } from './commit.ts'
import type { Devices } from './devices.ts'
import {
  checkLogin,
  type LoginOptions,
  writeConfirmation,
  writeLogin,
  writeLogout,
} from './login.ts'
import type { ManagerInternals } from './manager-internals.ts'
import type { AuthOutcome } from './outcome.ts'
import { respond } from './outcome.ts'
import type { RememberStrategy } from './remember/strategy.ts'
import type { RequestInfo } from './request-info.ts'
import { RequestState } from './request-state.ts'
import { type LoginViews, redirectToLogin, redirectToRefresh, safeNext } from './unauthorized.ts'
import { UserLoading } from './user-loading.ts'

export type { LoginOptions, ResponseEffects }

/**
 * The auth object after a login guard: `user` is the logged-in user, without exception. A request
 * with an exempt method (`OPTIONS` by default, for CORS preflights) is not redirected or refused
 * by the guard, as in Flask-Login; without a login, the guard answers it `204 No Content` itself
 * and the handler does not run. With a login, the handler runs (behind the fresh guard too, even
 * when the login is not fresh).
 */
export type GuardedAuth<User extends object, Id extends UserId = string> = RequestAuth<User, Id> & {
  readonly user: User
}

/** @internal What the request facade uses of its manager. */
export type ManagerForRequests<User extends object, Id extends UserId> = ManagerInternals<
  User,
  Id,
  RequestAuth<User, Id>
> & {
  readonly _rememberStrategy: RememberStrategy
  readonly _views: LoginViews
  readonly _devices: Devices
}

/** What a guard answers an anonymous request with an exempt method: `204 No Content`, no body. */
const EXEMPT_NO_CONTENT: AuthOutcome = Object.freeze(respond(204))

/**
 * Everything login-manager knows about one request: the session, the current user (loaded lazily,
 * at most once), and the Flask-Login operations. Adapters create it and put it where their
 * framework expects (`req.auth`, `c.var.auth`, `ctx.state.auth`, …).
 */
export class RequestAuth<User extends object, Id extends UserId = string> {
  readonly #manager: ManagerForRequests<User, Id>
  readonly #state: RequestState<User, Id, RequestAuth<User, Id>>
  readonly #users: UserLoading<User, Id, RequestAuth<User, Id>>
  #committed = false

  /** @internal Adapters create this through `LoginManager.createAuth`. */
  constructor(manager: ManagerForRequests<User, Id>, adapter: AdapterRequest) {
    this.#manager = manager
    this.#state = new RequestState(manager, adapter, this)
    this.#users = new UserLoading(this.#state, manager._rememberStrategy)
  }

  /** The request as loaders see it (method, path, URL, query, headers, client address, raw). */
  get request(): RequestInfo {
    return this.#state.request
  }

  // ---------------------------------------------------------------- session

  /**
   * The session bag, loaded on first access. Cookie sessions load synchronously; store-backed
   * sessions are loaded by the adapter before the handler runs.
   * @throws LoginManagerError `ERR_SESSION_NOT_LOADED` when a store session is read before it loaded.
   */
  get session(): Session {
    return this.#state.sessionNow()
  }

  /** The session bag, loading it from the store first when needed. */
  getSession(): Promise<Session> {
    return this.#state.loadSession()
  }

  /**
   * @internal Adapters call this for asynchronous backends before running the handler: it loads
   * the session from the store. Returns a 503 outcome to send when the store is unavailable and
   * `onStoreError` is `'fail'`; otherwise `null`.
   */
  async loadStoreSession(): Promise<AuthOutcome | null> {
    const state = this.#state
    if (this.#manager._backend.sync || !state.hasSessionCookie) return null
    try {
      await state.loadSession()
      return null
    } catch (error) {
      return state.storeFailed('load', error)
    }
  }

  /** Queues a flash message in the session (Flask's `flash`). @default category 'message' */
  flash(message: string, category = 'message'): void {
    this.session.flash(message, category)
  }

  /** Returns and removes flashed messages, optionally only one category's. */
  consumeFlashes(category?: string): Flash[] {
    return this.session.consumeFlashes(category)
  }

  /** The user id stored in the session (not loaded, not verified against the loader). */
  get sessionUserId(): UserId | undefined {
    return this.session._auth.userId
  }

  // ---------------------------------------------------------------- devices (server-side sessions)

  /**
   * Ends every other session and remember-me token of the current user (server-side sessions),
   * keeping this one: "log out other devices", e.g. after a password change.
   * @returns how many were ended.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async logoutOtherDevices(): Promise<number> {
    const user = await this.getUser()
    await this.getSession()
    const manager = this.#manager
    return manager._devices.logoutOtherDevices(
      this.#state,
      manager._rememberStrategy,
      user !== null,
    )
  }

  /**
   * Logs the current user out here and on every other device (server-side sessions).
   * @returns how many sessions and tokens were ended elsewhere.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async logoutEverywhere(): Promise<number> {
    const count = await this.logoutOtherDevices()
    await this.logoutUser()
    return count
  }

  /**
   * This request's server-side session as `LoginManager.listSessions` names it, so that a
   * "your devices" page can mark this device. `undefined` with cookie sessions, before the store
   * session is loaded (`await auth.getSession()`), and while a login or logout of this request
   * is about to give the session a new identity.
   */
  get sessionHandle(): string | undefined {
    const session = this.#state.session
    if (session === undefined || session._rotate) return undefined
    return this.#manager._devices.handleOf(session._handle)
  }

  // ---------------------------------------------------------------- user

  /**
   * The current user, loaded at most once per request: from the session, else the remember-me
   * cookie, else the request loader. `null` when nobody is logged in.
   * @throws LoginManagerError `ERR_NO_USER_LOADER` when neither loader is configured.
   */
  getUser(): Promise<User | null> {
    try {
      const result = this.#users.load()
      return result instanceof Promise ? result : Promise.resolve(result)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * The current user, synchronously: available once loaded (after a guard or `getUser()`), or
   * straight away when the user loader is synchronous and the session is a cookie.
   * @throws LoginManagerError `ERR_USER_NOT_LOADED` while an asynchronous loader is still running.
   */
  get user(): User | null {
    const users = this.#users
    if (users.loaded) return users.user
    const result = users.pending ?? users.load()
    if (!(result instanceof Promise)) return result
    throw new LoginManagerError(
      'ERR_USER_NOT_LOADED',
      this.#manager._backend.sync
        ? 'the user loader is asynchronous: use `await auth.getUser()`, or put a loginRequired() guard before this handler'
        : "the login is in the session store (this request's session or remember-me token), which is asynchronous: use `await auth.getUser()`, or put a loginRequired() guard before this handler",
    )
  }

  /** Flask's `current_user`: the user, or the anonymous user object when nobody is logged in. */
  async currentUser(): Promise<User | UserLike> {
    return (await this.getUser()) ?? (this.#manager._anonymousUser() as UserLike)
  }

  /** True when a user is loaded and authenticated (an inactive `UserMixin` is not). */
  async isAuthenticated(): Promise<boolean> {
    return isAuthenticated(await this.getUser())
  }

  /**
   * True when the current login was interactive: not restored from remember-me and not demoted by
   * session protection. Loads the user first, so the answer does not depend on what ran before.
   */
  async isFresh(): Promise<boolean> {
    await this.getUser()
    return this.session._auth.fresh === true
  }

  /**
   * True when the request carries a valid remember-me cookie for the session's user (Flask's
   * `login_remembered`, bound to the user rather than to any cookie present).
   */
  async isRemembered(): Promise<boolean> {
    await this.getUser()
    if (this.#state.remember.cleared) return false
    const id = this.session._auth.userId
    return id !== undefined && this.#manager._rememberStrategy.carriesFor(this.#state, id)
  }

  // ---------------------------------------------------------------- login and logout

  /**
   * Logs a user in: a new session identity, the user id, freshness and the session-protection
   * identifier; optionally a remember-me cookie. Inactive users are refused unless `force`.
   * @returns `false` when the user is inactive and not forced; otherwise `true`.
   * @throws TypeError when `user` is not an object (nothing, or an id), or for an invalid
   * `duration` (seconds expected).
   */
  async loginUser(user: User, options: LoginOptions = {}): Promise<boolean> {
    const manager = this.#manager
    const login = checkLogin(user, options, manager.options.session.keepOnLogin)
    if (login === null) return false
    const id = manager._userIdOf(user)
    const session = await this.getSession()
    writeLogin(this.#state, manager._rememberStrategy, session, user, id, login)
    this.#users.set(user)
    manager._checkLoginTransport(this.request)
    manager.emit('userLoggedIn', { auth: this, user })
    return true
  }

  /**
   * Logs the current user out: drops the login from the session (app data stays), gives the
   * session a new identity and deletes the remember-me cookie.
   */
  async logoutUser(): Promise<true> {
    const user = await this.currentUser()
    writeLogout(this.#state, await this.getSession())
    this.#manager.emit('userLoggedOut', { auth: this, user })
    this.#users.set(null)
    return true
  }

  /**
   * Marks the login fresh again after the user re-entered a password (Flask's `confirm_login`).
   * Loads the user first, so a login restored from remember-me in this request is confirmed too.
   */
  async confirmLogin(): Promise<void> {
    await this.getUser()
    writeConfirmation(this.#state, this.session)
    this.#manager.emit('userLoginConfirmed', { auth: this })
  }

  // ---------------------------------------------------------------- guards and redirects

  /**
   * What `loginRequired` decides: `null` to let the request through (logged in), otherwise the
   * outcome to send: that of {@link unauthorized}, or `204 No Content` for an exempt method
   * (`exemptMethods`, a CORS preflight) without a login.
   */
  async checkLogin(): Promise<AuthOutcome | null> {
    return this.decideGuard('login')
  }

  /**
   * What `freshLoginRequired` decides: like {@link checkLogin}, then {@link needsRefresh} when
   * the login is not fresh (an exempt method with a login passes without being fresh).
   */
  async checkFreshLogin(): Promise<AuthOutcome | null> {
    return this.decideGuard('fresh')
  }

  /**
   * @internal The guards' decision, synchronous whenever the user loads synchronously (a sync
   * loader and a cookie session): the logged-in path then costs no promise at all.
   */
  decideGuard(kind: 'login' | 'fresh'): AuthOutcome | null | Promise<AuthOutcome | null> {
    const fresh = kind === 'fresh'
    let user: User | null | Promise<User | null>
    try {
      user = this.#users.load()
    } catch (error) {
      return Promise.reject(error)
    }
    if (user instanceof Promise) return user.then((loaded) => this.#guardDecision(fresh, loaded))
    return this.#guardDecision(fresh, user)
  }

  #guardDecision(fresh: boolean, user: User | null): AuthOutcome | null | Promise<AuthOutcome> {
    const authenticated = isAuthenticated(user)
    // The logged-in request passes without the method being read (an adapter may pay for that).
    if (authenticated && (!fresh || this.session._auth.fresh === true)) return null
    const exempt = this.#manager.options.exemptMethods.has(this.#state.adapter.method)
    // An exempt method with a login passes even a non-fresh one, as in Flask-Login.
    if (authenticated) return exempt ? null : this.needsRefresh()
    // A login that could not be restored because the store failed is not "logged out".
    if (this.#state.storeOutcome !== undefined) return this.#state.storeOutcome
    // An exempt request without a login (a CORS preflight) is neither redirected nor refused, as
    // in Flask-Login, but the guard answers it itself: a guarded handler never runs without a user.
    return exempt ? EXEMPT_NO_CONTENT : this.unauthorized()
  }

  /**
   * Flask's `unauthorized()`: fires `userUnauthorized`, then runs the custom handler, or flashes
   * the login message and redirects to the login view with a `next`, or answers 401.
   */
  async unauthorized(): Promise<AuthOutcome> {
    const manager = this.#manager
    manager.emit('userUnauthorized', { auth: this })
    const handler = manager._handlers.unauthorized
    if (handler !== undefined) return handler(this)
    return redirectToLogin(this.#state, manager._views)
  }

  /** Flask's `needs_refresh()`: like {@link unauthorized} with the refresh view and message. */
  async needsRefresh(): Promise<AuthOutcome> {
    const manager = this.#manager
    manager.emit('userNeedsRefresh', { auth: this })
    const handler = manager._handlers.needsRefresh
    if (handler !== undefined) return handler(this)
    return redirectToRefresh(this.#state, manager._views)
  }

  /**
   * Where a login handler should send the user after logging in: the `next` query parameter (or
   * the one kept in the session), if it is a safe same-origin target, else `fallback`. A session
   * `next` is consumed.
   * @example `res.redirect(req.auth.nextUrl('/dashboard'))`
   */
  nextUrl(fallback = '/'): string {
    return safeNext(this.#state, fallback)
  }

  // ---------------------------------------------------------------- response

  /**
   * @internal Adapters call this once, right before the response headers go out, and apply the
   * result. Returns `null` when the request touched nothing (the common case for static files).
   * Responses with a 5xx status persist no session changes.
   */
  commitResponse(status: number): ResponseEffects | null {
    if (this.#committed) return null
    this.#committed = true
    const loggedIn = this.#users.user !== null
    return commitResponse(this.#state, this.#manager._rememberStrategy, status, loggedIn)
  }
}

function isAuthenticated(user: unknown): boolean {
  return user !== null && user !== undefined && (user as UserLike).isAuthenticated !== false
}
