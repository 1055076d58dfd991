import { KeyRing } from '../crypto/keys.ts'
import type { SessionBackend } from '../session/backend.ts'
import { CookieSessionBackend } from '../session/cookie-backend.ts'
import { jsonBytes, MAX_VERSION_BYTES } from '../session/limits.ts'
import { RevocationList } from '../session/revocations.ts'
import { decodeFields, REMEMBER_LINK, StoreSessionBackend } from '../session/store-backend.ts'
import { StoreKeys } from '../session/store-keys.ts'
import { RequestAuth } from './auth.ts'
import { LoginManagerError } from './errors.ts'
import { type LoginManagerEvents, TypedEvents } from './events.ts'
import { AnonymousUser } from './mixins.ts'
import { loginUrl as buildLoginUrl } from './next-url.ts'
import {
  type LoginManagerOptions,
  type LoginView,
  type ResolvedOptions,
  resolveOptions,
} from './options.ts'
import type { AuthOutcome } from './outcome.ts'
import { RememberCodec } from './remember.ts'
import { StoreRememberTokens } from './remember-store.ts'
import type { RequestInfo } from './request-info.ts'
import type { MaybePromise, RequestAdapter, UserId, UserLike } from './types.ts'
import {
  insecureLoginWarning,
  isProduction,
  lostLoginWarning,
  RECENT_LOGIN_SECONDS,
} from './warnings.ts'

/** The most `destroyIndex` passes of one `logoutEverywhere` (each after the first catches a race). */
const LOGOUT_PASSES = 8

/** One server-side session of a user, as {@link LoginManager.listSessions} reports it. */
export interface SessionInfo {
  /** Opaque; pass it to `revokeSession`. Not the session id (that never leaves the cookie). */
  readonly handle: string
  /** Seconds since the epoch. */
  readonly createdAt: number
  /** Seconds since the epoch. */
  readonly lastActive: number
}

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
  #loginView: LoginView | undefined
  #loginViews: [prefix: string, view: LoginView | null | false, folded: string][] = []
  #refreshView: LoginView | undefined
  readonly #resolveEndpoint: ((name: string) => string) | undefined
  readonly #localize: ((message: string) => string) | undefined
  readonly #anonymousUser: () => object
  readonly #getUserId: ((user: User) => Id) | undefined
  readonly #sessionVersion: ((user: User) => string | number | null | undefined) | undefined
  /** The warnings already printed (each is printed once per manager). */
  readonly #warned = new Set<'insecure-login' | 'lost-login'>()

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
    this._rememberTokens =
      store !== undefined &&
      this.options.remember.format === 'sealed' &&
      this._storeKeys !== undefined
        ? new StoreRememberTokens(store, this._storeKeys)
        : undefined
    this._remember = new RememberCodec(
      this.options.remember.format,
      this._keys.forPurpose('remember'),
      this.options.secrets,
      this.options.remember.name,
      this._revocations,
    )
    if (this.options.remember.format === 'flask' && options.sessionVersion !== undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        "sessionVersion: Flask-format remember cookies cannot carry a version, so every one would be refused; use remember.format 'sealed' (the default) with sessionVersion",
      )
    }
    this._handlers = { unauthorized: options.onUnauthorized, needsRefresh: options.onNeedsRefresh }
    this.#userLoader = options.userLoader
    this.#requestLoader = options.requestLoader
    this.#resolveEndpoint = options.resolveEndpoint
    this.#localize = options.localize
    this.#anonymousUser = options.anonymousUser ?? (() => new AnonymousUser())
    this.#getUserId = options.getUserId
    this.#sessionVersion = options.sessionVersion
    this.#loginView = this.#checkView('loginView', options.loginView)
    this.#refreshView = this.#checkView('refreshView', options.refreshView)
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
    if (prefix === undefined) {
      this.#loginView =
        view === false || view === null ? undefined : this.#checkView('loginView', view)
      return
    }
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `loginViews: prefix ${JSON.stringify(prefix)} must be a path starting with '/'`,
      )
    }
    const key = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
    const checked = view === null || view === false ? view : this.#checkView('loginViews', view)
    this.#loginViews = this.#loginViews.filter(([p]) => p !== key)
    this.#loginViews.push([key, checked ?? null, key.toLowerCase()])
    // Longest prefix first, so the most specific router wins.
    this.#loginViews.sort((a, b) => b[0].length - a[0].length)
  }

  /** Sets the refresh view used by `needsRefresh()`. */
  setRefreshView(view: LoginView | null): void {
    this.#refreshView = view === null ? undefined : this.#checkView('refreshView', view)
  }

  /**
   * Flask's `login_url`: the login view's URL with a `next` parameter (or the given view's).
   * @example `manager.loginUrl('http://localhost/protected') // '/login?next=%2Fprotected'`
   */
  loginUrl(nextUrl?: string, view: string | undefined = undefined): string {
    const target =
      view === undefined ? this.#expand(this.#loginView, undefined) : this.#expandString(view)
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
   * Creates the per-request auth object. Adapters call this; apps normally do not.
   */
  createAuth(adapter: RequestAdapter): RequestAuth<User, Id> {
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
    const { store, keys } = this.#requireStore('listSessions')
    const sessions: SessionInfo[] = []
    for (const tag of keys.userTags(userId)) {
      for (const key of await store.members(keys.index(tag))) {
        // The index also lists the user's remember-me tokens: only sessions are reported.
        const parts = keys.sessionParts(key)
        if (parts === undefined || parts.tag !== tag) continue
        const fields = await store.get(key)
        // A record that does not decode is no session (its next read deletes it).
        const decoded = fields === null ? null : decodeFields(fields)
        if (decoded === null) continue
        sessions.push({
          handle: `${tag}.${parts.idHash}`,
          createdAt: decoded.init.createdAt,
          lastActive: decoded.init.lastActive,
        })
      }
    }
    return sessions.sort((a, b) => b.lastActive - a.lastActive)
  }

  /**
   * Ends one session of a user, by the `handle` from {@link listSessions}, and the remember-me
   * token issued on the same device, so the device cannot log itself back in.
   * @returns whether a session was ended.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async revokeSession(userId: Id, handle: string): Promise<boolean> {
    const { store, keys } = this.#requireStore('revokeSession')
    const dot = handle.indexOf('.')
    const tag = handle.slice(0, dot)
    const tags = keys.userTags(userId)
    if (dot === -1 || !tags.includes(tag)) return false
    const key = keys.sessionByHash(tag, handle.slice(dot + 1))
    const fields = await store.get(key)
    if (fields === null) return false
    // The token first: should the second step fail, the session is still there to revoke again.
    const token = fields[REMEMBER_LINK]
    const tokenTag = token === undefined ? undefined : keys.rememberTag(token)
    const linked = token !== undefined && tokenTag !== undefined && tags.includes(tokenTag)
    if (linked) await store.destroy(token, keys.index(tokenTag))
    await store.destroy(key, keys.index(tag))
    // A restore from the token that was in flight wrote its session before the token went (or
    // cannot write it at all): it is found by its link.
    if (linked) await this._rememberTokens?.endLinkedSessions(userId, token)
    return true
  }

  /**
   * Logs a user out everywhere: every session and remember-me token of theirs, on every
   * instance sharing the store, stops working at its next request. Use it after a password
   * change (or bump `sessionVersion`, which also covers cookie sessions).
   * @returns how many sessions and tokens were ended.
   * @throws LoginManagerError `ERR_NO_STORE` with cookie sessions.
   */
  async logoutEverywhere(userId: Id, keep: readonly string[] = []): Promise<number> {
    const { store, keys } = this.#requireStore('logoutEverywhere')
    const indexes = keys.userTags(userId).map((tag) => keys.index(tag))
    let count = 0
    // Until a pass ends nothing: a restore or a rotation racing a pass is written only while
    // the token or record it stands on exists, so it lands before that goes, and the next pass
    // finds it in the index. (A new login with a password is a new login, and stays.)
    for (let pass = 0; pass < LOGOUT_PASSES; pass++) {
      let ended = 0
      for (const index of indexes) ended += await store.destroyIndex(index, keep)
      count += ended
      if (ended === 0) break
    }
    return count
  }

  #requireStore(operation: string) {
    const store = this.options.session.store
    if (store === undefined || this._storeKeys === undefined) {
      throw new LoginManagerError(
        'ERR_NO_STORE',
        `${operation}: needs server-side sessions (session.store); with cookie sessions, bump the user's sessionVersion to end all their sessions`,
      )
    }
    return { store, keys: this._storeKeys }
  }

  /**
   * @internal The login view for a request: the longest matching prefix entry, else the app's.
   * `caseSensitive: false` matches prefixes without regard to letter case, for frameworks that
   * route that way.
   */
  _loginViewFor(request: RequestInfo, caseSensitive = true): string | null {
    const path =
      caseSensitive || this.#loginViews.length === 0 ? request.path : request.path.toLowerCase()
    for (const [exact, view, folded] of this.#loginViews) {
      const prefix = caseSensitive ? exact : folded
      if (path === prefix || path.startsWith(prefix === '/' ? '/' : `${prefix}/`)) {
        if (view === false) return null
        if (view !== null) return this.#expand(view, request)
        break
      }
    }
    return this.#expand(this.#loginView, request)
  }

  /** @internal */
  _refreshViewFor(request: RequestInfo): string | null {
    return this.#expand(this.#refreshView, request)
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
    const message = insecureLoginWarning(request, this.options)
    if (message !== undefined) this.#warn('insecure-login', message)
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
    const id =
      this.#getUserId !== undefined
        ? this.#getUserId(user)
        : typeof (user as UserLike).getId === 'function'
          ? (user as UserLike).getId?.()
          : (user as { id?: unknown }).id
    if (typeof id === 'number' ? !Number.isFinite(id) : typeof id !== 'string') {
      throw new LoginManagerError(
        'ERR_USER_ID',
        `loginUser: the user's id must be a string or a finite number, got ${typeof id}; give users an \`id\` or \`getId()\`, or pass \`getUserId\``,
      )
    }
    if (typeof id === 'string' && (id === '' || id.length > 1024 || !isWellFormed(id))) {
      throw new LoginManagerError(
        'ERR_USER_ID',
        'loginUser: a string id must be non-empty, at most 1024 characters and valid Unicode',
      )
    }
    if (this._backend instanceof CookieSessionBackend) this._backend.checkUserId(id as Id)
    return id as Id
  }

  /**
   * @internal The version to store at login, checked: it must fit in a session cookie.
   * @throws LoginManagerError `ERR_INVALID_OPTION` when `sessionVersion` returns anything but a
   * finite number or a string of at most 128 bytes.
   */
  _versionOf(user: User): string | number | undefined {
    const version: unknown = this.#sessionVersion?.(user) ?? undefined
    if (
      version === undefined ||
      (typeof version === 'number' && Number.isFinite(version)) ||
      (typeof version === 'string' && jsonBytes(version) - 2 <= MAX_VERSION_BYTES)
    ) {
      return version
    }
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `sessionVersion: must return a finite number or a string of at most ${MAX_VERSION_BYTES} bytes (a counter, a timestamp or a short hash), got ${typeof version === 'string' ? `a string of ${jsonBytes(version) - 2} bytes` : String(version)}`,
    )
  }

  /** @internal Never throws: a version that could not have been stored simply does not match. */
  _versionMatches(user: User, stored: string | number | undefined): boolean {
    return (
      this.#sessionVersion === undefined || (this.#sessionVersion(user) ?? undefined) === stored
    )
  }

  #checkView(label: string, view: LoginView | undefined): LoginView | undefined {
    if (view === undefined || view === null) return undefined
    if (typeof view === 'function') return view
    if (typeof view !== 'string' || view === '') {
      throw new TypeError(`${label}: expected a path, a URL, an endpoint name or a function`)
    }
    if (!isUrlOrPath(view) && this.#resolveEndpoint === undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `${label}: '${view}' is neither a path ('/login') nor a URL; use a path, or pass resolveEndpoint to map endpoint names to paths`,
      )
    }
    return view
  }

  #expand(view: LoginView | undefined, request: RequestInfo | undefined): string | null {
    if (view === undefined) return null
    if (typeof view === 'function') {
      if (request === undefined) return null
      const result = view(request)
      return typeof result === 'string' && result !== '' ? this.#expandString(result) : null
    }
    return this.#expandString(view)
  }

  #expandString(view: string): string {
    if (isUrlOrPath(view)) return view
    if (this.#resolveEndpoint === undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        `login view '${view}' is neither a path nor a URL and no resolveEndpoint is configured`,
      )
    }
    return this.#resolveEndpoint(view)
  }
}

function isUrlOrPath(view: string): boolean {
  return view.startsWith('/') || /^https?:\/\//i.test(view)
}

// String.prototype.isWellFormed is not in the ES2023 typings; lone surrogates cannot be encoded.
function isWellFormed(value: string): boolean {
  return !/\p{Surrogate}/u.test(value)
}
