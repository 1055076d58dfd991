import type { CookieAttributes, SameSite } from '../cookie/serialize.ts'
import type { RevocationStore } from '../session/revocations.ts'
import type { SessionStore } from '../session/store.ts'
import type { MaybePromise, UserId } from '../shared/types.ts'
import type { AuthOutcome } from './outcome.ts'
import type { RequestInfo } from './request-info.ts'

/**
 * Where to send an anonymous (or not fresh) visitor: a path (`/login`), an absolute URL
 * (`https://auth.example.com/login`), an endpoint name resolved by `resolveEndpoint`, or a
 * function of the request. `null`/`undefined` means "no view" (401); per-prefix entries may also
 * be `false` to force a 401 under that prefix.
 */
export type LoginView = string | ((request: RequestInfo) => string | null | undefined | false)

/** Attributes shared by the session and remember cookies. Every duration is in **seconds**. */
export interface CookieOptions {
  /** Cookie name. */
  name?: string | undefined
  /** `Domain` attribute. @default undefined (host-only) */
  domain?: string | undefined
  /** `Path` attribute. @default '/' */
  path?: string | undefined
  /** `Secure` attribute. Browsers and curl accept Secure cookies on http://localhost and 127.0.0.1, so local development works with the default. @default true */
  secure?: boolean | undefined
  /** `HttpOnly` attribute. @default true */
  httpOnly?: boolean | undefined
  /** `SameSite` attribute. @default 'lax' */
  sameSite?: SameSite | undefined
}

/** Options of the session cookie and its timeouts (seconds). */
export interface SessionOptions extends CookieOptions {
  /** @default '__Host-session' */
  name?: string | undefined
  /** Seconds without activity after which the server refuses the session. @default 3600 (1 hour) */
  idleTimeout?: number | undefined
  /** Seconds after creation (login) after which the server refuses the session, however active. @default 43200 (12 hours) */
  absoluteTimeout?: number | undefined
  /** The session's last-activity stamp is renewed (one re-seal) at most this often, in seconds. @default 60 */
  touchInterval?: number | undefined
  /**
   * Keep sessions on the server (`MemoryStore`, or `RedisStore` from `login-manager/redis`); the
   * cookie then carries only a signed id. Remember-me tokens move to the store too.
   * @default undefined (the whole session sealed in the cookie)
   */
  store?: SessionStore | undefined
  /**
   * What a request gets when the store fails or is too slow: `'fail'` answers 503; `'anonymous'`
   * goes on without a session (nothing is written, the cookie is kept for when the store is back).
   * Either way the `storeError` event fires (logged to stderr when nobody listens).
   * @default 'fail'
   */
  onStoreError?: 'fail' | 'anonymous' | undefined
  /**
   * Which of the app's session data survives a login (`loginUser`, and a login restored from a
   * remember-me cookie): `'all'` keeps every key (Flask's behaviour), `'none'` keeps none, a list
   * keeps only those keys. Flash messages and a `next` kept in the session always survive; the
   * data of a _different_ user who was logged in on the browser never does.
   * `loginUser(user, { keep })` overrides it for one login.
   * @default 'all'
   */
  keepOnLogin?: KeepOnLogin | undefined
}

/**
 * Which session data survives a login: `'all'` keys, `'none'`, or only the listed keys. Flash
 * messages and a `next` kept in the session always survive.
 */
export type KeepOnLogin = 'all' | 'none' | readonly string[]

/** Options of the remember-me cookie (Flask-Login's `REMEMBER_COOKIE_*`). Durations in seconds. */
export interface RememberOptions extends CookieOptions {
  /** @default '__Host-remember' */
  name?: string | undefined
  /** Lifetime of a remember-me login, in seconds; checked on the server. @default 2592000 (30 days) */
  duration?: number | undefined
  /** Re-issue the cookie (new expiry) on each request that carried it and used the session (Flask-Login PR #899 semantics). @default false */
  refreshEachRequest?: boolean | undefined
  /**
   * `'sealed'`: encrypted token with server-checked expiry and `sessionVersion` (revocable).
   * `'flask'`: Flask-Login's exact `id|HMAC-SHA512` format, for apps sharing cookies with a Flask app.
   * @default 'sealed'
   */
  format?: 'sealed' | 'flask' | undefined
}

/**
 * The revocation list of cookie sessions and sealed remember-me cookies: the ids of sessions and
 * tokens ended before their timeout (logout, a login as someone else, a rotation), refused on
 * every instance that shares the list. Not used with `session.store`, where ending a session
 * deletes its record.
 */
export interface RevocationOptions {
  /**
   * Shares the list between instances and across restarts: `RedisRevocationStore` from
   * `login-manager/redis`, or a `MemoryRevocationStore` shared by managers of one process.
   * Without one, each manager keeps its own list in memory: other processes do not see it, and
   * it is lost at a restart.
   * @default undefined (this manager's memory only)
   */
  store?: RevocationStore | undefined
  /**
   * Most ids kept in memory (each entry lasts until its session's absolute timeout or its
   * remember token's expiry), at 20 to 80 bytes an id. When full, the ids closest to their
   * timeout are dropped first.
   * @default 1000000
   */
  maxEntries?: number | undefined
  /**
   * Seconds between loads of what other instances revoked (a safety net under the store's push
   * messages) and retries of writes that failed. Only used with a `store`.
   * @default 5
   */
  resyncInterval?: number | undefined
}

/**
 * Everything a {@link LoginManager} can be configured with. Durations are in seconds. `Auth` is
 * the request's auth object handed to the request loader and the handlers (`LoginManagerOptions`
 * fills it in).
 */
export interface ManagerOptions<User extends object, Id extends UserId, Auth> {
  /**
   * Secret(s) keys are derived from (HKDF, one key per purpose). At least 32 bytes each. A list
   * rotates keys: the first seals and signs, every one verifies, and cookies sealed with an older
   * secret are re-sealed with the first. Generate one with `npx login-manager secret`.
   */
  secret: string | readonly string[]
  /**
   * Loads a user from the id stored in the session or remember cookie (Flask `user_loader`):
   * the user, or `null` when the id is unknown. `undefined` is not an answer the type accepts,
   * so a loader with a forgotten `return` does not compile.
   */
  userLoader?: ((id: Id) => MaybePromise<User | null>) | undefined
  /** Loads a user from the request itself, e.g. an API key header (Flask `request_loader`): the user or `null`. Not persisted in the session. */
  requestLoader?: ((request: RequestInfo, auth: Auth) => MaybePromise<User | null>) | undefined
  /** Builds the anonymous user that `currentUser()` returns. @default () => new AnonymousUser() */
  anonymousUser?: (() => object) | undefined
  /** How to get a user's id. @default user.getId() when present, else user.id */
  getUserId?: ((user: User) => Id) | undefined
  /**
   * A per-user value (a counter, a password-hash fragment) stored with each login and remember
   * token. When it changes, every existing session and remember cookie of that user stops working:
   * "log out everywhere" even for cookie sessions.
   */
  sessionVersion?: ((user: User) => string | number | null | undefined) | undefined
  /** Where unauthorized visitors are redirected. @default undefined (401) */
  loginView?: LoginView | undefined
  /** Login views per path prefix (Flask's `blueprint_login_views`); `null` falls back to `loginView`, `false` gives a 401. */
  loginViews?: Readonly<Record<string, LoginView | null | false>> | undefined
  /** Where non-fresh logins are sent by `freshLoginRequired`. @default undefined (401) */
  refreshView?: LoginView | undefined
  /** Resolves endpoint names (views that are neither a path nor a URL) to a path. */
  resolveEndpoint?: ((name: string) => string) | undefined
  /** Flashed by `unauthorized()`; `null` flashes nothing. @default 'Please log in to access this page.' */
  loginMessage?: string | null | undefined
  /** @default 'message' */
  loginMessageCategory?: string | undefined
  /** Flashed by `needsRefresh()`; `null` flashes nothing. @default 'Please reauthenticate to access this page.' */
  refreshMessage?: string | null | undefined
  /** @default 'message' */
  refreshMessageCategory?: string | undefined
  /** Translates messages before they are flashed (Flask's `localize_callback`). */
  localize?: ((message: string) => string) | undefined
  /** Keep the return URL in the session instead of the `next` query parameter. @default false */
  useSessionForNext?: boolean | undefined
  /** Name of the query parameter carrying the return URL. @default 'next' */
  nextField?: string | undefined
  /** Host placed in every generated login URL (Flask `FORCE_HOST_FOR_REDIRECTS`). */
  forceHostForRedirects?: string | undefined
  /** Public origin of the app (`https://app.example`), used instead of the request's Host to build full URLs. */
  origin?: string | undefined
  /** Absolute origins a `next` may point to besides relative paths. @default [] */
  allowedRedirectOrigins?: readonly string[] | undefined
  /**
   * Methods the guards never redirect or refuse (CORS preflights): without a login the guard
   * answers `204 No Content` itself, with one the handler runs (fresh or not). @default ['OPTIONS']
   */
  exemptMethods?: Iterable<string> | undefined
  /** Flask's `SESSION_PROTECTION`. @default 'basic' */
  sessionProtection?: null | 'basic' | 'strong' | undefined
  /** Answer 401 instead of redirecting when the request asks for JSON or is an XHR. @default true */
  negotiate?: boolean | undefined
  /** Replaces the flash-and-redirect of `unauthorized()` (Flask's `unauthorized_handler`). */
  onUnauthorized?: ((auth: Auth) => MaybePromise<AuthOutcome>) | undefined
  /** Replaces the flash-and-redirect of `needsRefresh()` (Flask's `needs_refresh_handler`). */
  onNeedsRefresh?: ((auth: Auth) => MaybePromise<AuthOutcome>) | undefined
  /** Session cookie and timeouts. */
  session?: SessionOptions | undefined
  /** Remember-me cookie. */
  remember?: RememberOptions | undefined
  /** The revocation list of cookie sessions and sealed remember-me cookies. */
  revocation?: RevocationOptions | undefined
  /** Clock, in milliseconds since the epoch (tests inject one). @default Date.now */
  now?: (() => number) | undefined
}

/** A cookie configuration after defaults and validation. */
export interface ResolvedCookie {
  readonly name: string
  readonly attributes: Readonly<CookieAttributes>
}

/** Options after defaults are applied and everything is checked; built once per manager. */
export interface ResolvedOptions {
  readonly secrets: readonly string[]
  readonly loginMessage: string | null
  readonly loginMessageCategory: string
  readonly refreshMessage: string | null
  readonly refreshMessageCategory: string
  readonly useSessionForNext: boolean
  readonly nextField: string
  readonly forceHost: string | undefined
  readonly origin: string | undefined
  readonly allowedRedirectOrigins: readonly string[]
  readonly exemptMethods: ReadonlySet<string>
  readonly sessionProtection: null | 'basic' | 'strong'
  readonly negotiate: boolean
  readonly session: ResolvedCookie & {
    readonly idleTimeout: number
    readonly absoluteTimeout: number
    readonly touchInterval: number
    readonly store: SessionStore | undefined
    readonly onStoreError: 'fail' | 'anonymous'
    readonly keepOnLogin: KeepOnLogin
  }
  readonly remember: ResolvedCookie & {
    readonly duration: number
    readonly refreshEachRequest: boolean
    readonly format: 'sealed' | 'flask'
  }
  readonly revocation: {
    readonly store: RevocationStore | undefined
    readonly maxEntries: number
    readonly resyncInterval: number
  }
  readonly now: () => number
}

/** The most a browser keeps a cookie (RFC 6265bis), so the longest remember-me duration. */
export const MAX_COOKIE_AGE = 400 * 24 * 3600

/** Default values, frozen; every field is documented on {@link ManagerOptions}. */
export const DEFAULTS = Object.freeze({
  loginMessage: 'Please log in to access this page.',
  loginMessageCategory: 'message',
  refreshMessage: 'Please reauthenticate to access this page.',
  refreshMessageCategory: 'message',
  nextField: 'next',
  sessionProtection: 'basic' as const,
  exemptMethods: Object.freeze(['OPTIONS']),
  session: Object.freeze({
    name: '__Host-session',
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'lax' as SameSite,
    idleTimeout: 3600,
    absoluteTimeout: 12 * 3600,
    touchInterval: 60,
    keepOnLogin: 'all' as KeepOnLogin,
  }),
  remember: Object.freeze({
    name: '__Host-remember',
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'lax' as SameSite,
    duration: 30 * 24 * 3600,
    refreshEachRequest: false,
    format: 'sealed' as const,
  }),
  revocation: Object.freeze({ maxEntries: 1_000_000, resyncInterval: 5 }),
})
