import { KeyRing } from '../crypto/keys.ts'
import type { SessionBackend } from '../session/backend.ts'
import { CookieSessionBackend } from '../session/cookie-backend.ts'
import { RevocationList } from '../session/revocations.ts'
import { StoreSessionBackend } from '../session/store-backend.ts'
import { StoreKeys } from '../session/store-keys.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { AdapterRequest, MaybePromise, UserId } from '../shared/types.ts'
import { RequestAuth } from './auth.ts'
import { Devices, type SessionInfo } from './devices.ts'
import { type AuthEvents, TypedEvents } from './events.ts'
import { AnonymousUser } from './mixins.ts'
import { loginUrl as buildLoginUrl } from './next-url.ts'
import type { LoginView, ManagerOptions, ResolvedOptions } from './options.ts'
import type { AuthOutcome } from './outcome.ts'
import { rememberCodecFor } from './remember/choose.ts'
import type { RememberCodec } from './remember/codec.ts'
import { CookieRememberTokens } from './remember/cookie-tokens.ts'
import { StoreRememberStrategy } from './remember/store-strategy.ts'
import { StoreRememberTokens } from './remember/store-tokens.ts'
import type { RememberStrategy } from './remember/strategy.ts'
import type { RequestInfo } from './request-info.ts'
import { resolveOptions } from './resolve-options.ts'
import { ClientIdentifiers } from './session-protection.ts'
import { LoginViews } from './unauthorized.ts'
import { checkedVersion, userIdOf } from './user-identity.ts'
import {
  insecureLoginWarning,
  isProduction,
  lostLoginWarning,
  RECENT_LOGIN_SECONDS,
} from './warnings.ts'

export type { SessionInfo }

/** Every event a {@link LoginManager} emits, with its payload (see `AuthEvents`). */
export type LoginManagerEvents<User extends object, Id extends UserId = string> = AuthEvents<
  User,
  Id,
  RequestAuth<User, Id>
>

/** Everything a {@link LoginManager} can be configured with. Durations are in seconds. */
export type LoginManagerOptions<User extends object, Id extends UserId = string> = ManagerOptions<
  User,
  Id,
  RequestAuth<User, Id>
>

type UserLoader<User, Id> = (id: Id) => MaybePromise<User | null>
type RequestLoader<User extends object, Id extends UserId> = (
  request: RequestInfo,
  auth: RequestAuth<User, Id>,
) => MaybePromise<User | null>
type Handler<User extends object, Id extends UserId> = (
  auth: RequestAuth<User, Id>,
) => MaybePromise<AuthOutcome>

/**
 * The heart of login-manager (Flask-Login's `LoginManager`): configuration, the user and request
 * loaders, handlers and events. Framework adapters turn it into middleware; one manager may serve
 * several apps.
 *
 * @typeParam User - your user type; guards narrow `auth.user` to it.
 * @typeParam Id - the type `getId()` returns and `userLoader` receives.
 * @throws LoginManagerError `ERR_SECRET_MISSING`, `ERR_SECRET_WEAK` or `ERR_INVALID_OPTION` for bad options.
 *
 * @example
 * ```ts
 * const manager = new LoginManager<User>({
 *   secret: process.env.SESSION_SECRET!,
 *   userLoader: (id) => users.get(id) ?? null,
 *   loginView: '/login',
 * })
 * manager.on('userLoggedIn', ({ user }) => console.log('hello', user.name))
 * ```
 */
export class LoginManager<User extends object, Id extends UserId = string> extends TypedEvents<
  LoginManagerEvents<User, Id>
> {
  /** The options after defaults and validation. */
  readonly options: ResolvedOptions
  /** @internal */ readonly _backend: SessionBackend
  /** @internal */ readonly _remember: RememberCodec
  /** @internal */ readonly _keys: KeyRing
  /** @internal Present when sessions live in a store. */ readonly _storeKeys: StoreKeys | undefined
  /** @internal Present when remember-me tokens live in the store. */ readonly _rememberTokens:
    | StoreRememberTokens
    | undefined
  /** @internal Ended sealed sessions and remember tokens (cookie sessions only). */
  readonly _revocations: RevocationList | undefined
  /** @internal */ readonly _handlers: {
    unauthorized?: Handler<User, Id> | undefined
    needsRefresh?: Handler<User, Id> | undefined
  }
  #userLoader: UserLoader<User, Id> | undefined
  #requestLoader: RequestLoader<User, Id> | undefined
  /** @internal How remember-me tokens are issued and checked, chosen from the options. */
  readonly _rememberStrategy: RememberStrategy
  /** @internal Session-protection identifiers of the clients this manager serves. */
  readonly _identifiers = new ClientIdentifiers()
  /** @internal The login and refresh views. */
  readonly _views: LoginViews
  /** @internal A user's sessions and devices (server-side sessions). */
  readonly _devices: Devices
  readonly #localize: ((message: string) => string) | undefined
  readonly #anonymousUser: () => object
  readonly #getUserId: ((user: User) => Id) | undefined
  readonly #sessionVersion: ((user: User) => string | number | null | undefined) | undefined
  /** The warnings already printed (each is printed once per manager). */
  readonly #warned = new Set<'insecure-login' | 'lost-login'>()
  /** The browser origin (Origin header and request origin) the last checked login came from, found fine. */
  #transportFine: string | undefined

  constructor(options: LoginManagerOptions<User, Id>) {
    super()
    this.options = resolveOptions(options)
    this._keys = new KeyRing(this.options.secrets)
    const store = this.options.session.store
    if (store === undefined) {
      this._storeKeys = undefined
      const { revocation, session, now } = this.options
      this._revocations = new RevocationList({
        ...revocation,
        now,
        onError: (operation, error) => this._storeError(undefined, operation, error),
      })
      this._backend = new CookieSessionBackend(this._keys.forPurpose('session'), session.name, {
        list: this._revocations,
        idleTimeout: session.idleTimeout,
        absoluteTimeout: session.absoluteTimeout,
        now,
      })
    } else {
      this._revocations = undefined
      const tagKeys = this._keys.forPurpose('user-tag')
      this._storeKeys = new StoreKeys(
        [
          tagKeys.current.raw,
          ...[...tagKeys.byId.values()].filter((k) => k !== tagKeys.current).map((k) => k.raw),
        ],
        this._keys.forPurpose('session-id'),
      )
      this._backend = new StoreSessionBackend(store, this._storeKeys, this.options.session)
    }
    const remember = this.options.remember
    this._rememberTokens =
      store !== undefined && remember.format === 'sealed' && this._storeKeys !== undefined
        ? new StoreRememberTokens(store, this._storeKeys)
        : undefined
    this._remember = rememberCodecFor(
      remember.format,
      this._keys.forPurpose('remember'),
      this.options.secrets,
      remember.name,
      this._revocations,
    )
    this._rememberStrategy =
      this._rememberTokens === undefined
        ? new CookieRememberTokens(this._remember)
        : new StoreRememberStrategy(this._rememberTokens)
    if (remember.format === 'flask' && options.sessionVersion !== undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        "sessionVersion: Flask-format remember cookies cannot carry a version, so every one would be refused; use remember.format 'sealed' (the default) with sessionVersion",
      )
    }
    this._devices = new Devices(store, this._storeKeys, this._rememberTokens)
    this._handlers = { unauthorized: options.onUnauthorized, needsRefresh: options.onNeedsRefresh }
    this.#userLoader = options.userLoader
    this.#requestLoader = options.requestLoader
    this.#localize = options.localize
    this.#anonymousUser = options.anonymousUser ?? (() => new AnonymousUser())
    this.#getUserId = options.getUserId
    this.#sessionVersion = options.sessionVersion
    this._views = new LoginViews(options.resolveEndpoint)
    this._views.setLoginView(options.loginView ?? null)
    this._views.setRefreshView(options.refreshView)
    for (const [prefix, view] of Object.entries(options.loginViews ?? {})) {
      this.setLoginView(view, prefix)
    }
  }

  /** Sets the user loader (Flask's `@login_manager.user_loader`); returns it. */
  userLoader<F extends UserLoader<User, Id>>(loader: F): F {
    if (typeof loader !== 'function') throw new TypeError('userLoader: expected a function')
    this.#userLoader = loader
    return loader
  }

  /** Sets the request loader (Flask's `@login_manager.request_loader`); returns it. */
  requestLoader<F extends RequestLoader<User, Id>>(loader: F): F {
    if (typeof loader !== 'function') throw new TypeError('requestLoader: expected a function')
    this.#requestLoader = loader
    return loader
  }

  /** The configured user loader, if any (Flask's `user_callback`). */
  get userCallback(): UserLoader<User, Id> | undefined {
    return this.#userLoader
  }

  /** The configured request loader, if any (Flask's `request_callback`). */
  get requestCallback(): RequestLoader<User, Id> | undefined {
    return this.#requestLoader
  }

  /** Replaces what `unauthorized()` does (Flask's `unauthorized_handler`); returns the handler. */
  unauthorizedHandler<F extends Handler<User, Id>>(handler: F): F {
    this._handlers.unauthorized = handler
    return handler
  }

  /** Replaces what `needsRefresh()` does (Flask's `needs_refresh_handler`); returns the handler. */
  needsRefreshHandler<F extends Handler<User, Id>>(handler: F): F {
    this._handlers.needsRefresh = handler
    return handler
  }

  /**
   * Sets the login view, for the whole app or for requests under a path prefix (Flask's
   * `set_login_view` with a blueprint). Under a prefix, `null` falls back to the app's login view
   * and `false` answers 401.
   */
  setLoginView(view: LoginView | null | false, prefix?: string): void {
    this._views.setLoginView(view, prefix)
  }

  /** Sets the refresh view used by `needsRefresh()`. */
  setRefreshView(view: LoginView | null): void {
    this._views.setRefreshView(view)
  }

  /**
   * Flask's `login_url`: the login view's URL with a `next` parameter (or the given view's).
   * @example `manager.loginUrl('http://localhost/protected') // '/login?next=%2Fprotected'`
   */
  loginUrl(nextUrl?: string, view: string | undefined = undefined): string {
    const target = this._views.target(view)
    if (target === null) {
      throw new LoginManagerError('ERR_INVALID_OPTION', 'loginUrl: no login view is configured')
    }
    return buildLoginUrl(target, nextUrl, this.options.nextField, {
      forceHost: this.options.forceHost,
    })
  }

  /**
   * Resolves once the revocation list holds what its store held at start-up (cookie sessions
   * with `revocation.store`; at once otherwise). Await it before serving: until then, a cookie
   * ended by another instance is refused only once its revocation is pushed here.
   * @throws the store's error (rejects; `StoreUnavailableError` from `RedisRevocationStore`) when
   * that first load fails. The list keeps trying in the background, so an app may also start
   * anyway and catch up once the store answers.
   * @example `await manager.ready(); app.listen(3000)`
   */
  ready(): Promise<void> {
    return this._revocations?.ready() ?? Promise.resolve()
  }

  /**
   * Stops the revocation list's background work (resyncs, the store subscription) after one
   * last attempt to write revocations the store has not acknowledged. The app still closes its
   * own Redis clients.
   */
  async close(): Promise<void> {
    await this._revocations?.close()
  }

  /**
   * @internal The per-request auth object; adapters get it through `startRequest` of
   * `login-manager/adapter`.
   */
  createAuth(adapter: AdapterRequest): RequestAuth<User, Id> {
    return new RequestAuth<User, Id>(this, adapter)
  }

  /**
   * Throws unless a user or request loader is configured. Adapters call it when they are created,
   * so a forgotten loader fails at start-up rather than on the first request.
   * @throws LoginManagerError `ERR_NO_USER_LOADER`
   */
  assertReady(): void {
    if (this.#userLoader === undefined && this.#requestLoader === undefined) {
      throw new LoginManagerError(
        'ERR_NO_USER_LOADER',
        'no user loader: pass `userLoader` (or `requestLoader`) to new LoginManager(), or call manager.userLoader(fn), before creating the adapter (expressLogin, honoLogin, fastifyLogin, koaLogin, fetchLogin)',
      )
    }
  }

  /**
   * The sessions a user has open (server-side sessions only): an opaque `handle` for
   * {@link revokeSession}, and when each was created and last active (seconds since the epoch).
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async listSessions(userId: Id): Promise<SessionInfo[]> {
    return this._devices.listSessions(userId)
  }

  /**
   * Ends one session of a user, by the `handle` from {@link listSessions}, and the remember-me
   * token issued on the same device, so the device cannot log itself back in.
   * @returns whether a session was ended.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async revokeSession(userId: Id, handle: string): Promise<boolean> {
    return this._devices.revokeSession(userId, handle)
  }

  /**
   * Logs a user out everywhere: every session and remember-me token of theirs, on every
   * instance sharing the store, stops working at its next request. Use it after a password
   * change (or bump `sessionVersion`, which also covers cookie sessions).
   * @returns how many sessions and tokens were ended.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async logoutEverywhere(userId: Id, keep: readonly string[] = []): Promise<number> {
    return this._devices.logoutEverywhere(userId, keep)
  }

  /** @internal Reports a store failure: the `storeError` event, or stderr when nobody listens. */
  _storeError(auth: RequestAuth<User, Id> | undefined, operation: string, error: unknown): void {
    if (this.hasListeners('storeError')) {
      this.emit('storeError', { auth, operation, error })
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    console.error(`login-manager: session store ${operation} failed: ${message}`)
  }

  /**
   * @internal Called on each login: warns once when its cookies cannot reach the browser (plain
   * HTTP to a host other than localhost, with Secure cookies).
   */
  _checkLoginTransport(request: RequestInfo): void {
    if (this.#warned.has('insecure-login')) return
    // Logins keep coming from the same origin: one found fine is not parsed again.
    const from = `${request.header('origin') ?? ''} ${request.origin}`
    if (from === this.#transportFine) return
    const message = insecureLoginWarning(request, this.options)
    if (message === undefined) this.#transportFine = from
    else this.#warn('insecure-login', message)
  }

  /**
   * @internal Called when the user loader did not find a session's user: warns once, outside
   * production, when that login was made moments ago (the loader, not the user, is the likely
   * cause). `answer` is what the loader returned.
   */
  _checkLostLogin(id: UserId, answer: unknown, ageSeconds: number): void {
    if (this.#warned.has('lost-login') || ageSeconds > RECENT_LOGIN_SECONDS || isProduction()) {
      return
    }
    this.#warn('lost-login', lostLoginWarning(id, answer, ageSeconds))
  }

  #warn(kind: 'insecure-login' | 'lost-login', message: string): void {
    this.#warned.add(kind)
    console.warn(`login-manager: ${message}`)
  }

  /** @internal */
  _localize(message: string): string {
    return this.#localize === undefined ? message : this.#localize(message)
  }

  /** @internal */
  _anonymousUser(): object {
    return this.#anonymousUser()
  }

  /** @internal The id to store for a user, checked. */
  _userIdOf(user: User): Id {
    const id = userIdOf(user, this.#getUserId)
    if (this._backend instanceof CookieSessionBackend) this._backend.checkUserId(id)
    return id
  }

  /**
   * @internal The version to store at login, checked: it must fit in a session cookie.
   * @throws LoginManagerError `ERR_INVALID_OPTION` when `sessionVersion` returns anything but a
   * finite number or a string of at most 128 bytes.
   */
  _versionOf(user: User): string | number | undefined {
    return checkedVersion(this.#sessionVersion?.(user) ?? undefined)
  }

  /** @internal Never throws: a version that could not have been stored simply does not match. */
  _versionMatches(user: User, stored: string | number | undefined): boolean {
    return (
      this.#sessionVersion === undefined || (this.#sessionVersion(user) ?? undefined) === stored
    )
  }
}
