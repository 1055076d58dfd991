import { createHash } from 'node:crypto'
import { getCookie, getCookies } from '../cookie/parse.ts'
import { deletionCookie, serializeCookie } from '../cookie/serialize.ts'
import type { AuthState, Flash } from '../session/session.ts'
import { Session } from '../session/session.ts'
import { hashSecret } from '../session/store-keys.ts'
import { drive } from './drive.ts'
import { LoginManagerError } from './errors.ts'
import type { CookieRejection } from './events.ts'
import type { LoginManager } from './login-manager.ts'
import { loginUrl, makeNextParam, safeNextUrl } from './next-url.ts'
import {
  describeValue,
  type KeepOnLogin,
  MAX_COOKIE_AGE,
  parseKeep,
  type ResolvedOptions,
} from './options.ts'
import type { AuthOutcome } from './outcome.ts'
import { redirect, respond } from './outcome.ts'
import type { RememberDecoded } from './remember.ts'
import type {
  SeriesEnded,
  StoreRememberTokens,
  TokenRefusal,
  TokenRotation,
} from './remember-store.ts'
import { RequestInfo } from './request-info.ts'
import type { RequestAdapter, UserId, UserLike } from './types.ts'
import { checkUserArgument } from './user-argument.ts'

/** Options of {@link RequestAuth.loginUser}. Durations are in seconds. */
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

/** Headers an adapter must add to the response; produced once, just before headers are sent. */
export interface ResponseEffects {
  /** `Set-Cookie` values to append. */
  readonly cookies: string[]
  /** Add `Cookie` to `Vary`: the response depends on the session. */
  readonly vary: boolean
  /** Replace `Cache-Control` with `private, no-store`: the response sets a session cookie. */
  readonly noStore: boolean
  /**
   * Store writes the response should wait for before it ends (server-side sessions only). Never
   * rejects: resolves to `null`, or to a 503 outcome to send instead when a write failed and the
   * headers are not out yet.
   */
  readonly pending?: Promise<AuthOutcome | null>
}

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

const SKEW_SECONDS = 60

/** What a guard answers an anonymous request with an exempt method: `204 No Content`, no body. */
const EXEMPT_NO_CONTENT: AuthOutcome = Object.freeze(respond(204))

/** The effects of a request that used the session and changed nothing (shared: never mutated). */
const VARY_ONLY: ResponseEffects = Object.freeze({
  cookies: Object.freeze([]) as unknown as string[],
  vary: true,
  noStore: false,
})

/**
 * Everything login-manager knows about one request: the session, the current user (loaded lazily,
 * at most once), and the Flask-Login operations. Adapters create it and put it where their
 * framework expects (`req.auth`, `c.var.auth`, `ctx.state.auth`, …).
 */
export class RequestAuth<User extends object, Id extends UserId = string> {
  readonly #m: LoginManager<User, Id>
  readonly #o: ResolvedOptions
  readonly #adapter: RequestAdapter
  #request: RequestInfo | undefined
  #cookieHeader: string | undefined | null = null
  #session: Session | undefined
  /** The request's session cookie when it was valid (the previous identity, for stores). */
  #sessionValue: string | undefined
  /** The request carried a session cookie we could not use: delete it. */
  #sessionRejected = false
  /** The session was opened with an older key: re-seal it. */
  #sessionKeyRotated = false
  /** A login, remember-me restore or logout in this request: every session it presented ends. */
  #endPresented = false
  #userLoaded = false
  #user: User | null = null
  #userPromise: Promise<User | null> | undefined
  #identifier: string | undefined
  #rememberOp: 'set' | 'clear' | undefined
  #rememberDuration: number | undefined
  #rememberDecoded: RememberDecoded | undefined
  /** A rotated store remember token to send back (store-backed remember-me). */
  #rememberNext: string | undefined
  /** Confirms the rotation of {@link #rememberNext}, once the response is known to carry it. */
  #rememberConfirm: (() => Promise<void>) | undefined
  /** A write to run once the request's other store writes are in (the rotation's confirmation). */
  #afterWrites: (() => Promise<void>) | undefined
  /** The selector reserved by `loginUser` for the store remember token issued at commit. */
  #rememberSelector: string | undefined
  /** The 503 to answer because a remember-me restore failed on the store (`onStoreError: 'fail'`). */
  #storeOutcome: AuthOutcome | undefined
  /** The store failed for this request: write nothing, keep the cookies for later. */
  #storeDown = false
  /** Store writes to wait for; created by the first one (most requests have none). */
  #pending: Promise<void>[] | undefined
  #committed = false
  /** The user whose login this request dropped (unknown or revoked): their data is not kept. */
  #droppedUserId: UserId | undefined
  /** The clock, read once per request (seconds since the epoch). */
  #now = -1
  /**
   * Revocation: the id whose revocation voids this request's login. `undefined`: the loaded
   * sealed session's; `null`: none (a login in this request); a string: the sealed remember
   * token the login was restored from.
   */
  #loginFrom: string | null | undefined
  /**
   * Revocation: this request ends the login it was sent (a logout, a login, a re-authentication,
   * a protection drop): at commit, the sealed session and the remember token it carried end.
   */
  #ends = false
  /** Revocation, at commit: what this request's login came from was ended while it ran. */
  #endedMeanwhile: boolean | undefined

  /** @internal Adapters create this through `LoginManager.createAuth`. */
  constructor(manager: LoginManager<User, Id>, adapter: RequestAdapter) {
    this.#m = manager
    this.#o = manager.options
    this.#adapter = adapter
  }

  /** The request as loaders see it (method, path, URL, query, headers, client address, raw). */
  get request(): RequestInfo {
    if (this.#request === undefined) this.#request = new RequestInfo(this.#adapter, this.#o.origin)
    return this.#request
  }

  // ---------------------------------------------------------------- session

  /**
   * The session bag, loaded on first access. Cookie sessions load synchronously; store-backed
   * sessions are loaded by the adapter before the handler runs.
   * @throws LoginManagerError `ERR_SESSION_NOT_LOADED` when a store session is read before it loaded.
   */
  get session(): Session {
    if (this.#session !== undefined) return this.#session
    const value = this.#cookie(this.#o.session.name)
    if (value === undefined) return this.#newSession()
    const backend = this.#m._backend
    const loaded = backend.load(value)
    if (loaded instanceof Promise) {
      loaded.catch(() => {})
      throw new LoginManagerError(
        'ERR_SESSION_NOT_LOADED',
        "this request's session is in the session store and nothing has loaded it yet: `await auth.getSession()` (or `await auth.getUser()`) before reading it, or load it before your handlers with the adapter's middleware or a guard (Express: `app.use(login.middleware)`; `login.install(app)` alone does not load it)",
      )
    }
    return this.#accept(loaded, value)
  }

  /** The session bag, loading it from the store first when needed. */
  async getSession(): Promise<Session> {
    if (this.#session !== undefined) return this.#session
    const value = this.#cookie(this.#o.session.name)
    if (value === undefined) return this.#newSession()
    const loaded = await this.#m._backend.load(value)
    return this.#session ?? this.#accept(loaded, value)
  }

  /**
   * @internal Adapters call this for asynchronous backends before running the handler: it loads
   * the session from the store. Returns a 503 outcome to send when the store is unavailable and
   * `onStoreError` is `'fail'`; otherwise `null`.
   */
  async prepare(): Promise<AuthOutcome | null> {
    if (this.#m._backend.sync || this.#cookie(this.#o.session.name) === undefined) return null
    try {
      await this.getSession()
      return null
    } catch (error) {
      return this.#storeFailed('load', error)
    }
  }

  /** Records a store failure; the 503 outcome when the app chose to fail, else `null`. */
  #storeFailed(operation: string, error: unknown): AuthOutcome | null {
    this.#storeDown = true
    if (this.#session === undefined) this.#newSession()
    this.#m._storeError(this, operation, error)
    return this.#o.session.onStoreError === 'fail' ? storeUnavailable() : null
  }

  // ---------------------------------------------------------------- server-side sessions

  /**
   * Ends every other session and remember-me token of the current user (server-side sessions),
   * keeping this one: "log out other devices", e.g. after a password change.
   * @returns how many were ended.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async logoutOtherDevices(): Promise<number> {
    const user = await this.getUser()
    const session = await this.getSession()
    const keys = this.#m._storeKeys
    if (keys === undefined) {
      throw new LoginManagerError(
        'ERR_NO_STORE',
        "logoutOtherDevices: needs server-side sessions (session.store); with cookie sessions, bump the user's sessionVersion",
      )
    }
    if (user === null || session._auth.userId === undefined) return 0
    const keep: string[] = []
    if (session._handle !== undefined)
      keep.push(keys.session(session._handle.tag, session._handle.id))
    const remember = this.#cookie(this.#o.remember.name)
    const rememberKey =
      remember === undefined
        ? undefined
        : this.#m._rememberTokens?.keyOf(this.#rememberNext ?? remember)
    if (rememberKey !== undefined) keep.push(rememberKey)
    return this.#m.logoutEverywhere(session._auth.userId as Id, keep)
  }

  /**
   * This request's server-side session as {@link LoginManager.listSessions} names it, so that a
   * "your devices" page can mark this device. `undefined` with cookie sessions, before the store
   * session is loaded (`await auth.getSession()`), and while a login or logout of this request
   * is about to give the session a new identity.
   */
  get sessionHandle(): string | undefined {
    const session = this.#session
    const handle = session?._handle
    if (handle === undefined || session?._rotate === true || this.#m._storeKeys === undefined) {
      return undefined
    }
    return `${handle.tag}.${hashSecret(handle.id)}`
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

  // ---------------------------------------------------------------- user

  /**
   * The current user, loaded at most once per request: from the session, else the remember-me
   * cookie, else the request loader. `null` when nobody is logged in.
   * @throws LoginManagerError `ERR_NO_USER_LOADER` when neither loader is configured.
   */
  getUser(): Promise<User | null> {
    if (this.#userLoaded) return Promise.resolve(this.#user)
    if (this.#userPromise === undefined) {
      try {
        const result = this.#startLoad()
        if (!(result instanceof Promise)) return Promise.resolve(result)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return this.#userPromise as Promise<User | null>
  }

  /**
   * The current user, synchronously: available once loaded (after a guard or `getUser()`), or
   * straight away when the user loader is synchronous and the session is a cookie.
   * @throws LoginManagerError `ERR_USER_NOT_LOADED` while an asynchronous loader is still running.
   */
  get user(): User | null {
    if (this.#userLoaded) return this.#user
    if (this.#userPromise === undefined) {
      const result = this.#startLoad()
      if (!(result instanceof Promise)) return result
    }
    throw new LoginManagerError(
      'ERR_USER_NOT_LOADED',
      this.#m._backend.sync
        ? 'the user loader is asynchronous: use `await auth.getUser()`, or put a loginRequired() guard before this handler'
        : "the login is in the session store (this request's session or remember-me token), which is asynchronous: use `await auth.getUser()`, or put a loginRequired() guard before this handler",
    )
  }

  /** Flask's `current_user`: the user, or the anonymous user object when nobody is logged in. */
  async currentUser(): Promise<User | UserLike> {
    return (await this.getUser()) ?? (this.#m._anonymousUser() as UserLike)
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
   * `login_remembered`, bound to the user — quirk Q6 fixed).
   */
  async isRemembered(): Promise<boolean> {
    await this.getUser()
    if (this.#rememberOp === 'clear') return false
    const id = this.session._auth.userId
    return id !== undefined && this.#carriesRememberFor(id)
  }

  /**
   * Logs a user in: a new session identity, the user id, freshness and the session-protection
   * identifier; optionally a remember-me cookie. Inactive users are refused unless `force`.
   * @returns `false` when the user is inactive and not forced; otherwise `true`.
   * @throws TypeError when `user` is not an object (nothing, or an id), or for an invalid
   * `duration` (seconds expected).
   */
  async loginUser(user: User, options: LoginOptions = {}): Promise<boolean> {
    checkUserArgument('loginUser', user)
    const { remember = false, duration, force = false, fresh = true } = options
    if (duration !== undefined && !isSeconds(duration)) {
      throw new TypeError(
        `duration must be a number of seconds between 1 and ${MAX_COOKIE_AGE}, instead got: ${String(duration)}`,
      )
    }
    const keep = options.keep === undefined ? this.#o.session.keepOnLogin : parseKeep(options.keep)
    if (keep === undefined) {
      throw new TypeError(
        `keep must be 'all', 'none' or an array of session keys, instead got: ${describeValue(options.keep)}`,
      )
    }
    if (!force && (user as UserLike).isActive === false) return false
    const id = this.#m._userIdOf(user)
    const session = await this.getSession()
    const previous = session._auth
    this.#carryOver(session, id, keep)
    // With store remember tokens, the session record names the token of its device, so that
    // revoking the session revokes the token too (`null`: no token on this device any more).
    const reserved = remember ? this.#m._rememberTokens?.reserve(id) : undefined
    this.#rememberSelector = reserved?.selector
    this.#m._backend.linkRemember?.(session, reserved?.key ?? null)
    session._rotate = true
    this.#endPresented = true
    session._createdAt = this.#nowSeconds()
    this.#loginFrom = null
    this.#ends = true
    session._setAuth(
      compact<AuthState>({
        userId: id,
        fresh: fresh !== false,
        identifier: this.#currentIdentifier(),
        rememberSeconds: remember ? duration : undefined,
        version: this.#m._versionOf(user),
        next: previous.next,
      }),
    )
    if (remember) {
      this.#rememberOp = 'set'
      this.#rememberDuration = duration ?? this.#o.remember.duration
    } else if (this.#cookie(this.#o.remember.name) !== undefined) {
      // A remember cookie left by an earlier login must not outlive this one (or restore another user).
      this.#rememberOp = 'clear'
    } else {
      // Nor may a token an earlier loginUser of this same request asked for (another user's).
      this.#rememberOp = undefined
    }
    this.#setUser(user)
    this.#m._checkLoginTransport(this.request)
    this.#m.emit('userLoggedIn', { auth: this, user })
    return true
  }

  /**
   * Logs the current user out: drops the login from the session (app data stays), gives the
   * session a new identity and deletes the remember-me cookie.
   */
  async logoutUser(): Promise<true> {
    const user = await this.currentUser()
    const session = await this.getSession()
    if (Object.keys(session._auth).length > 0) session._setAuth({})
    session._rotate = true
    this.#endPresented = true
    this.#rememberOp = 'clear'
    this.#ends = true
    this.#m.emit('userLoggedOut', { auth: this, user })
    this.#setUser(null)
    return true
  }

  /**
   * Marks the login fresh again after the user re-entered a password (Flask's `confirm_login`).
   * Loads the user first, so a login restored from remember-me in this request is confirmed too.
   */
  async confirmLogin(): Promise<void> {
    await this.getUser()
    const session = this.session
    if (session._auth.userId !== undefined) {
      session._patchAuth({ fresh: true, identifier: this.#currentIdentifier() })
      session._rotate = true
      this.#ends = true
    }
    this.#m.emit('userLoginConfirmed', { auth: this })
  }

  // ---------------------------------------------------------------- guards and redirects

  /**
   * What `loginRequired` decides: `null` to let the request through (logged in), otherwise the
   * outcome to send: that of {@link unauthorized}, or `204 No Content` for an exempt method
   * (`exemptMethods`, a CORS preflight) without a login.
   */
  async checkLogin(): Promise<AuthOutcome | null> {
    return this.guard(false)
  }

  /**
   * What `freshLoginRequired` decides: like {@link checkLogin}, then {@link needsRefresh} when
   * the login is not fresh (an exempt method with a login passes without being fresh).
   */
  async checkFreshLogin(): Promise<AuthOutcome | null> {
    return this.guard(true)
  }

  /**
   * @internal The guards' decision, synchronous whenever the user loads synchronously (a sync
   * loader and a cookie session): the logged-in path then costs no promise at all.
   */
  guard(fresh: boolean): AuthOutcome | null | Promise<AuthOutcome | null> {
    if (!this.#userLoaded && this.#userPromise === undefined) {
      let result: User | null | Promise<User | null>
      try {
        result = this.#startLoad()
      } catch (error) {
        return Promise.reject(error)
      }
      if (!(result instanceof Promise)) return this.#decide(fresh, result)
    }
    if (this.#userLoaded) return this.#decide(fresh, this.#user)
    return (this.#userPromise as Promise<User | null>).then((user) => this.#decide(fresh, user))
  }

  #decide(fresh: boolean, user: User | null): AuthOutcome | null | Promise<AuthOutcome> {
    const authenticated = isAuthenticated(user)
    // The logged-in request passes without the method being read (an adapter may pay for that).
    if (authenticated && (!fresh || this.session._auth.fresh === true)) return null
    const exempt = this.#o.exemptMethods.has(this.#adapter.method)
    // An exempt method with a login passes even a non-fresh one, as in Flask-Login.
    if (authenticated) return exempt ? null : this.needsRefresh()
    // A login that could not be restored because the store failed is not "logged out".
    if (this.#storeOutcome !== undefined) return this.#storeOutcome
    // An exempt request without a login (a CORS preflight) is neither redirected nor refused, as
    // in Flask-Login, but the guard answers it itself: a guarded handler never runs without a user.
    return exempt ? EXEMPT_NO_CONTENT : this.unauthorized()
  }

  /**
   * Flask's `unauthorized()`: fires `userUnauthorized`, then runs the custom handler, or flashes
   * the login message and redirects to the login view with a `next`, or answers 401.
   */
  async unauthorized(): Promise<AuthOutcome> {
    this.#m.emit('userUnauthorized', { auth: this })
    const handler = this.#m._handlers.unauthorized
    if (handler !== undefined) return handler(this)
    // Prefixes match as the framework routes: Express, for one, ignores letter case by default.
    const view = this.#m._loginViewFor(this.request, this.#adapter.caseSensitiveRouting !== false)
    return this.#redirectToView(view, this.#o.loginMessage, this.#o.loginMessageCategory)
  }

  /** Flask's `needs_refresh()`: like {@link unauthorized} with the refresh view and message. */
  async needsRefresh(): Promise<AuthOutcome> {
    this.#m.emit('userNeedsRefresh', { auth: this })
    const handler = this.#m._handlers.needsRefresh
    if (handler !== undefined) return handler(this)
    const view = this.#m._refreshViewFor(this.request)
    return this.#redirectToView(view, this.#o.refreshMessage, this.#o.refreshMessageCategory)
  }

  /**
   * Where a login handler should send the user after logging in: the `next` query parameter (or
   * the one kept in the session), if it is a safe same-origin target, else `fallback`. A session
   * `next` is consumed.
   * @example `res.redirect(req.auth.nextUrl('/dashboard'))`
   */
  nextUrl(fallback = '/'): string {
    let candidate: string | null = this.request.query(this.#o.nextField)
    if (candidate === null && this.#cookie(this.#o.session.name) !== undefined) {
      const session = this.session
      if (session._auth.next !== undefined) {
        candidate = session._auth.next
        session._patchAuth({ next: undefined })
      }
    }
    if (candidate === null) return fallback
    const safe = safeNextUrl(candidate, { allowedOrigins: this.#o.allowedRedirectOrigins })
    if (safe === null) {
      this.#m.emit('redirectRejected', {
        auth: this,
        target: JSON.stringify(candidate.slice(0, 200)),
      })
      return fallback
    }
    return safe
  }

  #redirectToView(view: string | null, message: string | null, category: string): AuthOutcome {
    if (view === null) return unauthorizedResponse(401, this.#wantsJson())
    if (this.#o.negotiate && this.#isApiRequest())
      return unauthorizedResponse(401, this.#wantsJson())
    if (message !== null) this.flash(this.#m._localize(message), category)
    const forceHost = this.#o.forceHost
    const next = this.#nextFor(view)
    if (this.#o.useSessionForNext) {
      // A next that nextUrl() would refuse (longer than it accepts, or unsafe) is not kept: it
      // could only fill the session cookie. Nor is an older one, which is not where the user was.
      const usable = safeNextUrl(next, { allowedOrigins: this.#o.allowedRedirectOrigins }) !== null
      this.session._patchAuth({ next: usable ? next : undefined })
      return redirect(loginUrl(view, undefined, this.#o.nextField, { forceHost }))
    }
    return redirect(loginUrl(view, next, this.#o.nextField, { forceHost }))
  }

  /**
   * The `next` for a redirect to `view`: Flask-Login's `make_next_param` of the request URL. For
   * a view on another host that keeps the whole URL, and without a configured `origin` the host
   * in it would be the client's own `Host` header: then only the path and query are used.
   */
  #nextFor(view: string): string {
    const href = this.request.url.href
    const next = makeNextParam(view, href)
    if (this.#o.origin !== undefined || next.startsWith('/')) return next
    return makeNextParam('/', href)
  }

  #isApiRequest(): boolean {
    if (this.#adapter.header('x-requested-with')?.toLowerCase() === 'xmlhttprequest') return true
    return this.#wantsJson()
  }

  #wantsJson(): boolean {
    const accept = this.#adapter.header('accept')
    return accept?.includes('json') === true && !accept.includes('text/html')
  }

  // ---------------------------------------------------------------- loading internals

  #startLoad(): User | null | Promise<User | null> {
    // `undefined`, not `null`: null is an answer (nobody is logged in).
    const fast = this.#loadLoggedIn()
    const result = fast === undefined ? drive(this.#loadUser()) : fast
    if (result instanceof Promise) {
      this.#userPromise = result.then(
        (user) => {
          if (!this.#userLoaded) this.#setUser(user)
          return this.#user
        },
        (error) => {
          this.#userPromise = undefined
          throw error
        },
      )
      return this.#userPromise
    }
    this.#setUser(result)
    return result
  }

  #setUser(user: User | null): void {
    this.#user = user
    this.#userLoaded = true
    this.#userPromise = undefined
  }

  /**
   * The common request, without a generator: a cookie session naming a user the user loader
   * finds synchronously, the session's version still current. Returns `undefined` for anything
   * else, having handed what it did (session protection, the loader's answer) to {@link #loadUser},
   * which goes on from there exactly as it would have.
   */
  #loadLoggedIn(): User | null | Promise<User | null> | undefined {
    const m = this.#m
    const loader = m.userCallback
    if (loader === undefined || !m._backend.sync || m.hasListeners('userAccessed')) return undefined
    const session = this.session
    const id = session._auth.userId
    if (id === undefined) return undefined
    if (!this.#protect(session)) return null
    const loaded = loader(id as Id)
    if (
      loaded !== null &&
      loaded !== undefined &&
      !(loaded instanceof Promise) &&
      m._versionMatches(loaded, session._auth.version)
    ) {
      return loaded
    }
    return drive(this.#loadUser({ session, loaded }))
  }

  /**
   * Loads the current user: the session's, else remember-me's, else the request loader's.
   * `resume`: the session and the user loader's answer when {@link #loadLoggedIn} got that far.
   */
  *#loadUser(resume?: {
    session: Session
    loaded: unknown
  }): Generator<unknown, User | null, unknown> {
    const m = this.#m
    if (m.userCallback === undefined && m.requestCallback === undefined) {
      throw new LoginManagerError(
        'ERR_NO_USER_LOADER',
        'no user loader: pass `userLoader` (or `requestLoader`) to new LoginManager(), or call manager.userLoader(fn) before handling requests',
      )
    }
    if (resume === undefined && m.hasListeners('userAccessed'))
      m.emit('userAccessed', { auth: this })
    let session: Session
    if (resume !== undefined) {
      session = resume.session
    } else if (
      this.#session !== undefined ||
      m._backend.sync ||
      this.#cookie(this.#o.session.name) === undefined
    ) {
      // Loaded, a cookie session, or no session cookie at all: nothing to wait for.
      session = this.session
    } else {
      // A store session nobody loaded yet (a handler outside the guards and middleware): load
      // it here. If the store fails, the request is anonymous, and with `onStoreError: 'fail'`
      // it answers 503 (as when the adapter loads it).
      try {
        session = (yield this.getSession()) as Session
      } catch (error) {
        this.#storeOutcome = this.#storeFailed('load', error) ?? undefined
        // Go on with the empty session #storeFailed made: a request loader may still vouch.
        session = this.session
      }
    }
    let user: User | null = null
    if (session._auth.userId !== undefined) {
      if (resume === undefined && !this.#protect(session)) return null
      const loader = m.userCallback
      if (loader !== undefined) {
        const loaded = resume === undefined ? loader(session._auth.userId as Id) : resume.loaded
        const answer = (yield loaded) as User | null | undefined
        user = answer ?? null
        if (user === null) {
          const age = this.#nowSeconds() - session._createdAt
          this.#m._checkLostLogin(session._auth.userId, answer, age)
          this.#dropLogin(session, 'unknown-user')
        } else if (!m._versionMatches(user, session._auth.version)) {
          user = null
          this.#dropLogin(session, 'revoked')
          this.#rememberOp = 'clear'
        }
      }
    }
    if (user === null && this.#rememberOp !== 'clear') {
      user = (yield* this.#loadFromRemember(session)) ?? null
    }
    const requestLoader = m.requestCallback
    if (user === null && requestLoader !== undefined) {
      user = ((yield requestLoader(this.request, this)) as User | null | undefined) ?? null
      if (user !== null) m.emit('userLoadedFromRequest', { auth: this, user })
    }
    return user
  }

  *#loadFromRemember(session: Session): Generator<unknown, User | null, unknown> {
    if (this.#m._rememberTokens !== undefined) return yield* this.#loadFromStoreToken(session)
    const decoded = this.#decodeRemember()
    if (decoded === undefined) return null
    if (!decoded.ok) {
      this.#reject('remember', decoded.reason)
      this.#rememberOp = 'clear'
      return null
    }
    const loader = this.#m.userCallback
    if (loader === undefined) return null
    const user = ((yield loader(decoded.userId as Id)) as User | null | undefined) ?? null
    const refusal = this.#refusalOf(user, decoded.version)
    if (refusal !== undefined) {
      this.#reject('remember', refusal)
      this.#rememberOp = 'clear'
      return null
    }
    this.#restoreLogin(session, decoded.userId, decoded.duration, decoded.version, null)
    this.#loginFrom = decoded.id ?? null
    if (decoded.rotated) {
      this.#rememberOp = 'set'
      this.#rememberDuration = decoded.duration ?? this.#o.remember.duration
    }
    this.#m.emit('userLoadedFromCookie', { auth: this, user: user as User })
    return user as User
  }

  /**
   * Why a user loaded for a remember-me cookie may not be logged in by it, if they may not:
   * unknown, inactive (`isActive === false`), or their `sessionVersion` moved on. The cookie is
   * then deleted and its store token revoked.
   */
  #refusalOf(user: User | null, version: string | number | undefined): CookieRejection | undefined {
    if (user === null) return 'unknown-user'
    if ((user as UserLike).isActive === false) return 'inactive-user'
    return this.#m._versionMatches(user, version) ? undefined : 'revoked'
  }

  #carriesRememberFor(userId: UserId): boolean {
    const tokens = this.#m._rememberTokens
    if (tokens !== undefined) {
      // Signed by us and of this user's hash tag; the store itself is checked when it is touched.
      const value = this.#cookie(this.#o.remember.name)
      return value !== undefined && tokens.belongsTo(value, userId)
    }
    const decoded = this.#decodeRemember()
    return decoded?.ok === true && String(decoded.userId) === String(userId)
  }

  /**
   * Restores a login from a store remember-me token: the token is checked, then the user loaded
   * and accepted, and only then rotated (a token of a user who may not log in is revoked, never
   * re-issued). The rotation is confirmed at commit, when the response is known to carry it.
   */
  *#loadFromStoreToken(session: Session): Generator<unknown, User | null, unknown> {
    const tokens = this.#m._rememberTokens
    const value = this.#cookie(this.#o.remember.name)
    const loader = this.#m.userCallback
    if (tokens === undefined || value === undefined || loader === undefined || this.#storeDown) {
      return null
    }
    const now = this.#nowSeconds()
    const checked = yield* this.#fromStore(tokens.check(value, now))
    if (checked === undefined) return null
    if (!checked.ok) return yield* this.#refuseToken(tokens, checked)
    const user = ((yield loader(checked.userId as Id)) as User | null | undefined) ?? null
    const refusal = this.#refusalOf(user, checked.version)
    if (refusal !== undefined) {
      this.#reject('remember', refusal)
      this.#rememberOp = 'clear'
      return null
    }
    const rotated = yield* this.#fromStore<TokenRotation>(tokens.rotate(checked, now))
    if (rotated === undefined) return null
    if (!rotated.ok) return yield* this.#refuseToken(tokens, rotated)
    this.#restoreLogin(session, checked.userId, checked.duration, checked.version, checked.key)
    this.#rememberNext = rotated.next
    this.#rememberConfirm = rotated.confirm
    this.#m.emit('userLoadedFromCookie', { auth: this, user: user as User })
    return user as User
  }

  /** A store step of a remember-me restore; `undefined` when the store failed. */
  *#fromStore<T>(operation: Promise<T>): Generator<unknown, T | undefined, unknown> {
    try {
      return (yield operation) as T
    } catch (error) {
      // 'fail': the guards and the response answer 503 (unless another loader finds a user).
      this.#storeOutcome = this.#storeFailed('remember', error) ?? undefined
      return undefined
    }
  }

  /**
   * A store token that does not log in: its cookie is deleted (and the token revoked) at commit.
   * A replaced validator that came back means the cookie was copied: the series' sessions and
   * every remember-me token of the user are ended first, and `rememberTokenReused` says what went.
   */
  *#refuseToken(
    tokens: StoreRememberTokens,
    refusal: TokenRefusal,
  ): Generator<unknown, null, unknown> {
    const { reason, userId, key } = refusal
    if (reason === 'reused' && userId !== undefined && key !== undefined) {
      const ended: SeriesEnded = { sessions: 0, tokens: 0 }
      yield* this.#fromStore(tokens.endSeries(userId, key, ended))
      this.#m.emit('rememberTokenReused', { auth: this, userId: userId as Id, ended: { ...ended } })
    }
    this.#reject('remember', reason)
    this.#rememberOp = 'clear'
    return null
  }

  /**
   * A remember-me restore is a new login: new session identity, not fresh, bound to this client
   * (Q1 fixed), keeping the data `session.keepOnLogin` says. `rememberKey`: the store token it
   * came from, which the session record then names.
   */
  #restoreLogin(
    session: Session,
    userId: UserId,
    duration: number | undefined,
    version: string | number | undefined,
    rememberKey: string | null,
  ): void {
    this.#carryOver(session, userId, this.#o.session.keepOnLogin)
    // A login restored from a store token stands on it: not written once the token is gone.
    this.#m._backend.linkRemember?.(session, rememberKey, rememberKey !== null)
    session._rotate = true
    this.#endPresented = true
    session._createdAt = this.#nowSeconds()
    session._setAuth(
      compact<AuthState>({
        userId,
        fresh: false,
        identifier: this.#currentIdentifier(),
        rememberSeconds: duration === this.#o.remember.duration ? undefined : duration,
        version,
        next: session._auth.next,
      }),
    )
  }

  /**
   * What of the session a login of `userId` keeps: what `keep` says, or nothing (flashes and
   * `next` aside) when the session was another user's, even one whose login this request dropped.
   */
  #carryOver(session: Session, userId: UserId, keep: KeepOnLogin): void {
    const owner = session._auth.userId ?? this.#droppedUserId
    if (owner !== undefined && String(owner) !== String(userId)) session._dropData()
    else dropUnkept(session, keep)
  }

  #decodeRemember(): RememberDecoded | undefined {
    if (this.#rememberDecoded !== undefined) return this.#rememberDecoded
    const value = this.#cookie(this.#o.remember.name)
    if (value === undefined) return undefined
    this.#rememberDecoded = this.#m._remember.decode(value, this.#nowSeconds())
    return this.#rememberDecoded
  }

  /** Session protection (Flask's `_session_protection_failed`); returns false when the login was dropped. */
  #protect(session: Session): boolean {
    const mode = this.#o.sessionProtection
    if (mode === null) return true
    const stored = session._auth.identifier
    const current = this.#currentIdentifier()
    if (stored === null) {
      // Sessions made by the testing helper bind to the first client that uses them.
      session._patchAuth({ identifier: current })
      return true
    }
    if (stored === current) return true
    if (mode === 'basic' || session.permanent) {
      if (session._auth.fresh !== false) session._patchAuth({ fresh: false })
      this.#m.emit('sessionProtected', { auth: this, mode })
      return true
    }
    session._setAuth({})
    session._rotate = true
    this.#rememberOp = 'clear'
    this.#ends = true
    this.#m.emit('sessionProtected', { auth: this, mode })
    return false
  }

  #dropLogin(session: Session, reason: CookieRejection): void {
    // Quirk Q2 fixed: an id the loader no longer knows is removed from the session.
    const { next, userId } = session._auth
    this.#droppedUserId = userId
    session._setAuth(compact<AuthState>({ next }))
    session._rotate = true
    this.#reject('session', reason)
  }

  #currentIdentifier(): string {
    if (this.#identifier === undefined) {
      this.#identifier = clientIdentifier(
        this.#adapter.clientAddress ?? '',
        this.#adapter.header('user-agent') ?? '',
      )
    }
    return this.#identifier
  }

  #newSession(): Session {
    const now = this.#nowSeconds()
    this.#session = new Session({ createdAt: now, lastActive: now, isNew: true })
    return this.#session
  }

  #accept(
    loaded: Awaited<ReturnType<LoginManager<object, UserId>['_backend']['load']>>,
    value: string,
  ) {
    if (!loaded.ok) {
      this.#sessionRejected = true
      this.#reject('session', loaded.reason)
      return this.#newSession()
    }
    const { init } = loaded
    const now = this.#nowSeconds()
    const { idleTimeout, absoluteTimeout } = this.#o.session
    let reason: CookieRejection | undefined
    if (init.createdAt > now + SKEW_SECONDS || init.lastActive > now + SKEW_SECONDS) {
      reason = 'future-dated'
    } else if (now - init.lastActive > idleTimeout) reason = 'idle-timeout'
    else if (now - init.createdAt > absoluteTimeout) reason = 'absolute-timeout'
    if (reason !== undefined) {
      this.#sessionRejected = true
      this.#sessionValue = value
      this.#reject('session', reason)
      return this.#newSession()
    }
    this.#sessionValue = value
    this.#sessionKeyRotated = loaded.rotated
    // The decoded init as it is (its shared parts are copied on write): no per-request copy.
    this.#session = new Session(init)
    return this.#session
  }

  #reject(cookie: 'session' | 'remember', reason: CookieRejection): void {
    this.#m.emit('cookieRejected', { auth: this, cookie, reason })
  }

  #cookie(name: string): string | undefined {
    if (this.#cookieHeader === null) this.#cookieHeader = this.#adapter.header('cookie')
    if (this.#cookieHeader === undefined) return undefined
    const value = getCookie(this.#cookieHeader, name)
    return value === '' ? undefined : value
  }

  #nowSeconds(): number {
    if (this.#now < 0) this.#now = Math.floor(this.#o.now() / 1000)
    return this.#now
  }

  // ---------------------------------------------------------------- response

  /**
   * @internal Adapters call this once, right before the response headers go out, and apply the
   * result. Returns `null` when the request touched nothing (the common case for static files).
   * Responses with a 5xx status persist no session changes.
   */
  commit(status: number): ResponseEffects | null {
    if (this.#committed) return null
    this.#committed = true
    const session = this.#session
    const op = this.#rememberOp
    if (session === undefined && op === undefined && this.#rememberNext === undefined) return null
    const cookies: string[] = []
    if (
      this.#storeDown &&
      (session?._rotate === true ||
        op === 'set' ||
        (this.#storeOutcome !== undefined && this.#user === null))
    ) {
      // The request logged in or out while the store is down, or its remember-me login could
      // not be restored (`onStoreError: 'fail'`): answer 503 rather than pretend it worked.
      // Other changes (a flash, app data) are simply not kept.
      return { cookies, vary: true, noStore: false, pending: Promise.resolve(storeUnavailable()) }
    }
    // A failed request persists nothing; neither does one whose store is down (its cookies stay,
    // so the visitor is logged in again once the store is back).
    if (status < 500 && !this.#storeDown) {
      if (session !== undefined) this.#commitSession(session, cookies)
      this.#commitRemember(session, op, cookies)
    }
    if (cookies.length === 0 && this.#pending === undefined) {
      // The common request: it read the session and changed nothing.
      return session === undefined ? null : VARY_ONLY
    }
    const effects: ResponseEffects = {
      cookies,
      vary: session !== undefined || cookies.length > 0,
      noStore: cookies.length > 0,
    }
    const after = this.#afterWrites
    if (this.#pending === undefined && after === undefined) return effects
    const writes = this.#pending ?? []
    this.#pending = undefined
    return {
      ...effects,
      pending: Promise.all(writes)
        .then(() => after?.())
        .then(
          () => null,
          (error: unknown) => this.#storeFailed('save', error) ?? storeUnavailable(),
        ),
    }
  }

  #commitSession(session: Session, cookies: string[]): void {
    const o = this.#o.session
    const backend = this.#m._backend
    const previous = this.#sessionValue
    // Every copy of the session this request ends is refused from now on (cookie sessions);
    // whether another request had ended it first is read before.
    if (this.#ends && previous !== undefined) {
      this.#hasEnded(session)
      backend.end?.(previous)
    }
    // A permanent session outlives a logout that empties it (Flask keeps `_permanent` there), so
    // the next login on this browser is permanent too.
    if (session.isEmpty && !session.permanent) {
      if (previous !== undefined || this.#sessionRejected) {
        cookies.push(deletionCookie(o.name, o.attributes))
      }
      this.#endSessions(undefined)
      return
    }
    const now = this.#nowSeconds()
    const touchDue = !session._isNew && now - session._lastActive >= o.touchInterval
    // Nothing to end either: a login or logout rotates, and a session that replaced an expired
    // one is new, so it is not empty unless it was modified.
    if (!session._modified && !session._rotate && !this.#sessionKeyRotated && !touchDue) return
    // Ended by a logout elsewhere while this request ran: never write the old login back.
    if (this.#hasEnded(session)) return
    const saved = backend.save(session, now, previous, session._rotate)
    this.#track(saved.pending)
    // The session loaded from `previous` lives on, updated in place or moved to a new id by a
    // rotation that replaces its record in the same write; an expired one does not.
    this.#endSessions(this.#sessionRejected ? undefined : previous)
    const maxAge = session.permanent
      ? Math.max(
          0,
          Math.floor(Math.min(now + o.idleTimeout, session._createdAt + o.absoluteTimeout) - now),
        )
      : undefined
    // A store session keeps its cookie value across saves: no Set-Cookie unless it changed (or
    // the browser's expiry of a permanent session moves).
    if (saved.value !== previous || maxAge !== undefined) {
      cookies.push(serializeCookie(o.name, saved.value, { ...o.attributes, maxAge }, this.#o.now()))
    }
  }

  #commitRemember(
    session: Session | undefined,
    op: 'set' | 'clear' | undefined,
    cookies: string[],
  ): void {
    const r = this.#o.remember
    // The common request (no remember-me change, no refresh, nothing rotated) stops here.
    if (op === undefined && this.#rememberNext === undefined && !r.refreshEachRequest) return
    const tokens = this.#m._rememberTokens
    const presented = this.#cookie(r.name)
    if (op === 'clear') {
      cookies.push(deletionCookie(r.name, r.attributes))
      // Tokens die with the cookie: a copy replayed after logout is refused.
      if (tokens !== undefined && presented !== undefined) this.#track(tokens.revoke(presented))
      else if (presented !== undefined && this.#ends) {
        this.#m._remember.revoke(presented, this.#nowSeconds())
      }
      return
    }
    const userId = session?._auth.userId
    if (userId === undefined || session === undefined || this.#hasEnded(session)) return
    const now = this.#nowSeconds()
    if (op === 'set') {
      const duration = this.#rememberDuration ?? r.duration
      let value: string
      if (tokens !== undefined) {
        if (presented !== undefined) this.#track(tokens.revoke(presented))
        const issued = tokens.issue(
          userId,
          duration,
          session._auth.version,
          now,
          this.#rememberSelector,
        )
        this.#track(issued.pending)
        value = issued.value
      } else {
        // Re-sealing the token this login came from keeps its id; a new login ends the old one.
        const from = this.#rememberDecoded
        const reseal = from?.ok === true && from.id !== undefined && from.id === this.#loginFrom
        if (!reseal && presented !== undefined) this.#m._remember.revoke(presented, now)
        const id = reseal ? (from.id as string) : undefined
        value = this.#m._remember.encode(userId, duration, session._auth.version, now, id)
      }
      cookies.push(this.#rememberCookie(value, duration))
      return
    }
    const duration = session._auth.rememberSeconds ?? r.duration
    if (this.#rememberNext !== undefined) {
      // A store token was used and rotated in this request: send the new validator, and confirm
      // the rotation once the session it restored is written (until then, and if this response
      // fails, the replaced validator stays valid: the browser still holds it).
      cookies.push(this.#rememberCookie(this.#rememberNext, duration))
      this.#afterWrites = this.#rememberConfirm
      return
    }
    // Flask-Login PR #899: refresh only a valid cookie the request carried, for this user.
    if (!r.refreshEachRequest || presented === undefined || !this.#carriesRememberFor(userId)) {
      return
    }
    if (tokens !== undefined) {
      // The value sent again is rebuilt from its verified parts, never copied from the request.
      const refreshed = tokens.refresh(presented, duration, now)
      if (refreshed === undefined) return
      this.#track(refreshed.pending)
      cookies.push(this.#rememberCookie(refreshed.value, duration))
    } else {
      const decoded = this.#rememberDecoded
      if (decoded === undefined || this.#m._remember.isEnded(decoded)) return
      const id = decoded.ok ? decoded.id : undefined
      const value = this.#m._remember.encode(userId, duration, session._auth.version, now, id)
      cookies.push(this.#rememberCookie(value, duration))
    }
  }

  /**
   * Ends the sessions behind the session cookie values this request presented, except `kept`
   * (the value whose session this response saves): the record of a session rejected as expired,
   * and after a login, a remember-me restore or a logout, every value the request carried (a
   * browser sends several of one name when cookies were set for other paths or domains, or
   * planted from a sibling subdomain: the login must not leave the other one logged in). Invalid
   * values are ignored by the backend. Nothing is read when neither applies (the common request).
   */
  #endSessions(kept: string | undefined): void {
    const previous = this.#sessionValue
    if (!this.#endPresented) {
      if (previous !== undefined && previous !== kept)
        this.#track(this.#m._backend.destroy(previous))
      return
    }
    // Every session value the request presented, `previous` included: store records are
    // destroyed, sealed sessions that carried a login go on the revocation list (the one this
    // request was read from is ended at the start of the commit).
    const backend = this.#m._backend
    for (const value of this.#presentedSessions()) {
      if (value === kept) continue
      this.#track(backend.destroy(value))
      if (value !== previous) backend.end?.(value)
    }
  }

  /** Every distinct, non-empty session cookie value of the request, in header order. */
  #presentedSessions(): string[] {
    if (this.#cookieHeader === null) this.#cookieHeader = this.#adapter.header('cookie')
    const values = new Set(getCookies(this.#cookieHeader, this.#o.session.name))
    values.delete('')
    return [...values]
  }

  /** True when what this request's login came from was revoked while it ran (read once). */
  #hasEnded(session: Session): boolean {
    if (this.#endedMeanwhile === undefined) {
      const from = this.#loginFrom === undefined ? session._sid : this.#loginFrom
      this.#endedMeanwhile = from != null && this.#m._revocations?.has(from) === true
    }
    return this.#endedMeanwhile
  }

  #rememberCookie(value: string, duration: number): string {
    const r = this.#o.remember
    return serializeCookie(
      r.name,
      value,
      { ...r.attributes, maxAge: Math.floor(duration) },
      this.#o.now(),
    )
  }

  #track(write: void | Promise<void> | undefined): void {
    if (!(write instanceof Promise)) return
    if (this.#pending === undefined) this.#pending = [write]
    else this.#pending.push(write)
  }
}

// The same clients come back request after request; hashing each (address, user agent) pair once
// keeps SHA-256 off the hot path. Bounded: cleared when full. The last client is checked first: a
// busy connection sends the same pair many times in a row, and comparing two strings is cheaper
// than building the key and hashing it for the map.
const identifierCache = new Map<string, string>()
let lastAddress = ''
let lastAgent: string | undefined
let lastIdentifier = ''

/** Session-protection identifier: SHA-256 of "address|user agent", 128 bits in base64url. */
function clientIdentifier(address: string, agent: string): string {
  if (agent === lastAgent && address === lastAddress) return lastIdentifier
  const client = `${address}|${agent}`
  let id = identifierCache.get(client)
  if (id === undefined) {
    id = createHash('sha256').update(client).digest('base64url').slice(0, 22)
    if (identifierCache.size >= 10_000) identifierCache.clear()
    identifierCache.set(client, id)
  }
  lastAddress = address
  lastAgent = agent
  lastIdentifier = id
  return id
}

/** Drops the app's session data a login does not keep; flashes and `next` are kept apart. */
function dropUnkept(session: Session, keep: KeepOnLogin): void {
  if (keep === 'all') return
  for (const key of session.keys()) {
    if (keep === 'none' || !keep.includes(key)) session.delete(key)
  }
}

function isAuthenticated(user: unknown): boolean {
  return user !== null && user !== undefined && (user as UserLike).isAuthenticated !== false
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

function unauthorizedResponse(status: number, json: boolean): AuthOutcome {
  return json ? respond(status, { error: 'Unauthorized' }) : respond(status, 'Unauthorized')
}

function storeUnavailable(): AuthOutcome {
  return respond(503, 'Service Unavailable: the session store cannot be reached', {
    'retry-after': '5',
  })
}
