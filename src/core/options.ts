import type { CookieAttributes, SameSite } from '../cookie/serialize.ts'
import { validateCookieOptions } from '../cookie/serialize.ts'
import type { RevocationStore } from '../session/revocations.ts'
import type { SessionStore } from '../session/store.ts'
import type { RequestAuth } from './auth.ts'
import { LoginManagerError } from './errors.ts'
import { asciiHost } from './next-url.ts'
import { checkOptionKeys } from './option-keys.ts'
import type { AuthOutcome } from './outcome.ts'
import type { RequestInfo } from './request-info.ts'
import { estimateSecretBits, MIN_SECRET_BITS } from './secret-strength.ts'
import type { MaybePromise, UserId } from './types.ts'

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

/** Everything a {@link LoginManager} can be configured with. Durations are in seconds. */
export interface LoginManagerOptions<User extends object, Id extends UserId = string> {
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
  requestLoader?:
    | ((request: RequestInfo, auth: RequestAuth<User, Id>) => MaybePromise<User | null>)
    | undefined
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
  onUnauthorized?: ((auth: RequestAuth<User, Id>) => MaybePromise<AuthOutcome>) | undefined
  /** Replaces the flash-and-redirect of `needsRefresh()` (Flask's `needs_refresh_handler`). */
  onNeedsRefresh?: ((auth: RequestAuth<User, Id>) => MaybePromise<AuthOutcome>) | undefined
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

/** Default values, frozen; every field is documented on {@link LoginManagerOptions}. */
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

// Secrets that appear in tutorials and default configs; attackers try these first
// (Superset CVE-2023-27524).
const WELL_KNOWN_SECRETS = new Set([
  'secret',
  'changeme',
  'change-me',
  'keyboard cat',
  'your-secret-key',
  'supersecret',
  'CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET',
  'this is a very long secret that is at least 32 bytes',
  'complex_password_at_least_32_characters_long',
  '0000000000000000000000000000000000000000000000000000000000000000',
])

const MIN_SECRET_BYTES = 32
const MIN_DISTINCT_CHARS = 10

/** Checks the secret option; returns the secrets as a list, the sealing one first. */
export function resolveSecrets(input: unknown): string[] {
  if (input === undefined || input === null || input === '') {
    throw new LoginManagerError(
      'ERR_SECRET_MISSING',
      'secret: a secret of at least 32 bytes is required; read it from the environment (e.g. process.env.SESSION_SECRET) and generate one with `npx login-manager secret`',
    )
  }
  const list = typeof input === 'string' ? [input] : input
  if (Array.isArray(list) && list.length === 0) {
    throw new LoginManagerError(
      'ERR_SECRET_MISSING',
      'secret: the list is empty; give at least one secret of 32 bytes or more (generate one with `npx login-manager secret`)',
    )
  }
  if (!Array.isArray(list)) {
    throw new TypeError('secret: expected a string or a non-empty array of strings')
  }
  list.forEach((secret: unknown, index) => {
    const where = list.length > 1 ? `secret[${index}]` : 'secret'
    if (typeof secret !== 'string') throw new TypeError(`${where}: expected a string`)
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      throw new LoginManagerError(
        'ERR_SECRET_WEAK',
        `${where}: need at least ${MIN_SECRET_BYTES} bytes, got ${Buffer.byteLength(secret)}; generate one with \`npx login-manager secret\``,
      )
    }
    if (
      WELL_KNOWN_SECRETS.has(secret) ||
      new Set(secret).size < MIN_DISTINCT_CHARS ||
      estimateSecretBits(secret) < MIN_SECRET_BITS
    ) {
      throw new LoginManagerError(
        'ERR_SECRET_WEAK',
        `${where}: this value is well known or too predictable to be secret (words, sequences or repeats); generate a random one with \`npx login-manager secret\``,
      )
    }
  })
  return [...list]
}

/**
 * Checks a {@link KeepOnLogin} value; returns it (a list copied and frozen), or `undefined` when
 * it is none of the accepted forms.
 */
export function parseKeep(value: unknown): KeepOnLogin | undefined {
  if (value === 'all' || value === 'none') return value
  if (!Array.isArray(value)) return undefined
  for (const key of value) if (typeof key !== 'string' || key === '') return undefined
  return Object.freeze([...(value as string[])])
}

function seconds(label: string, value: unknown, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `${label}: expected a number of seconds between ${min} and ${max}, got ${String(value)}`,
    )
  }
  return value
}

function resolveCookie(label: string, defaults: CookieOptions, input: CookieOptions | undefined) {
  const merged = { ...defaults, ...definedOnly(input ?? {}) }
  const name = merged.name as string
  const attributes: CookieAttributes = {
    domain: merged.domain,
    path: merged.path,
    secure: merged.secure,
    httpOnly: merged.httpOnly,
    sameSite: merged.sameSite,
  }
  validateCookieOptions(label, name, attributes)
  return { name, attributes: Object.freeze(attributes) }
}

function definedOnly<T extends object>(input: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(input) as (keyof T)[]) {
    if (input[key] !== undefined) out[key] = input[key]
  }
  return out
}

/** A short description of an unexpected option value, for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  try {
    return JSON.stringify(value)?.slice(0, 100) ?? String(value)
  } catch {
    return String(value)
  }
}

function checkOrigin(label: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new LoginManagerError('ERR_INVALID_OPTION', `${label}: '${value}' is not an absolute URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LoginManagerError('ERR_INVALID_OPTION', `${label}: only http(s) origins are allowed`)
  }
  return url.origin
}

const FORCE_HOST_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$/

/**
 * Checks `forceHostForRedirects`; returns it with an international host name in its punycode
 * form (`bücher.example` → `xn--bcher-kva.example`), which is what Flask-Login's redirect
 * carries after Werkzeug's `iri_to_uri`.
 */
function resolveForceHost(value: unknown): string | undefined {
  if (value === undefined) return undefined
  let resolved: string | undefined
  if (typeof value === 'string') {
    const port = /:\d{1,5}$/.exec(value)?.[0] ?? ''
    const host = asciiHost(value.slice(0, value.length - port.length))
    if (host !== undefined) resolved = `${host}${port}`
  }
  if (resolved === undefined || !FORCE_HOST_RE.test(resolved)) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `forceHostForRedirects: expected a host name such as 'app.example.com' (optionally with a port), got ${describeValue(value)}`,
    )
  }
  return resolved
}

function resolveRevocation(input: RevocationOptions | undefined, hasSessionStore: boolean) {
  if (input !== undefined && (typeof input !== 'object' || input === null)) {
    throw new TypeError('revocation: expected an options object')
  }
  const {
    store,
    maxEntries = DEFAULTS.revocation.maxEntries,
    resyncInterval = DEFAULTS.revocation.resyncInterval,
  } = input ?? {}
  if (store !== undefined) {
    if (hasSessionStore) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'revocation.store: only cookie sessions use a revocation list (with session.store, ending a session deletes its record); remove one of the two',
      )
    }
    if (typeof store.add !== 'function' || typeof store.load !== 'function') {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'revocation.store: not a RevocationStore (it needs add() and load()); use RedisRevocationStore from login-manager/redis or MemoryRevocationStore',
      )
    }
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `revocation.maxEntries: expected a positive integer, got ${describeValue(maxEntries)}`,
    )
  }
  if (
    typeof resyncInterval !== 'number' ||
    !Number.isFinite(resyncInterval) ||
    resyncInterval < 0.1 ||
    resyncInterval > 3600
  ) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `revocation.resyncInterval: expected a number of seconds between 0.1 and 3600, got ${describeValue(resyncInterval)}`,
    )
  }
  return Object.freeze({ store, maxEntries, resyncInterval })
}

/** Applies defaults and validates everything once, at construction; never mutates `input`. */
export function resolveOptions<User extends object, Id extends UserId>(
  input: LoginManagerOptions<User, Id>,
): ResolvedOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('LoginManager: expected an options object with at least `secret`')
  }
  checkOptionKeys(input)
  const secrets = resolveSecrets(input.secret)
  const protection = input.sessionProtection === undefined ? 'basic' : input.sessionProtection
  if (protection !== null && protection !== 'basic' && protection !== 'strong') {
    // Flask-Login silently disables protection for unknown values; a typo should not do that.
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `sessionProtection: expected null, 'basic' or 'strong', got ${JSON.stringify(protection)}`,
    )
  }
  const sessionIn = input.session ?? {}
  const rememberIn = input.remember ?? {}
  const sessionCookie = resolveCookie('session', DEFAULTS.session, sessionIn)
  const rememberCookie = resolveCookie('remember', DEFAULTS.remember, rememberIn)
  if (sessionCookie.name === rememberCookie.name) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      'remember.name: must differ from session.name',
    )
  }
  const idleTimeout = seconds(
    'session.idleTimeout',
    sessionIn.idleTimeout,
    DEFAULTS.session.idleTimeout,
    1,
    MAX_COOKIE_AGE,
  )
  const absoluteTimeout = seconds(
    'session.absoluteTimeout',
    sessionIn.absoluteTimeout,
    DEFAULTS.session.absoluteTimeout,
    1,
    MAX_COOKIE_AGE,
  )
  const touchInterval = seconds(
    'session.touchInterval',
    sessionIn.touchInterval,
    Math.min(DEFAULTS.session.touchInterval, idleTimeout / 2),
    0,
    idleTimeout,
  )
  const store = sessionIn.store
  if (store !== undefined) {
    for (const method of ['get', 'write', 'touch', 'destroy', 'members', 'destroyIndex'] as const) {
      if (typeof store[method] !== 'function') {
        throw new LoginManagerError(
          'ERR_INVALID_OPTION',
          `session.store: not a SessionStore (it has no ${method}() method); use MemoryStore or RedisStore`,
        )
      }
    }
  }
  const onStoreError = sessionIn.onStoreError ?? 'fail'
  if (onStoreError !== 'fail' && onStoreError !== 'anonymous') {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `session.onStoreError: expected 'fail' or 'anonymous', got ${JSON.stringify(onStoreError)}`,
    )
  }
  const keepOnLogin = parseKeep(sessionIn.keepOnLogin ?? DEFAULTS.session.keepOnLogin)
  if (keepOnLogin === undefined) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `session.keepOnLogin: expected 'all', 'none' or an array of session keys (non-empty strings), got ${describeValue(sessionIn.keepOnLogin)}`,
    )
  }
  const format = rememberIn.format ?? DEFAULTS.remember.format
  if (format !== 'sealed' && format !== 'flask') {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      `remember.format: expected 'sealed' or 'flask', got ${JSON.stringify(format)}`,
    )
  }
  const revocation = resolveRevocation(input.revocation, store !== undefined)
  const nextField = input.nextField ?? DEFAULTS.nextField
  if (typeof nextField !== 'string' || !/^[A-Za-z0-9_.~-]+$/.test(nextField)) {
    throw new LoginManagerError(
      'ERR_INVALID_OPTION',
      'nextField: expected a plain query parameter name',
    )
  }
  const forceHost = resolveForceHost(input.forceHostForRedirects)
  return Object.freeze({
    secrets,
    loginMessage:
      input.loginMessage === undefined ? DEFAULTS.loginMessage : input.loginMessage || null,
    loginMessageCategory: input.loginMessageCategory ?? DEFAULTS.loginMessageCategory,
    refreshMessage:
      input.refreshMessage === undefined ? DEFAULTS.refreshMessage : input.refreshMessage || null,
    refreshMessageCategory: input.refreshMessageCategory ?? DEFAULTS.refreshMessageCategory,
    useSessionForNext: input.useSessionForNext === true,
    nextField,
    forceHost,
    origin: input.origin === undefined ? undefined : checkOrigin('origin', input.origin),
    allowedRedirectOrigins: (input.allowedRedirectOrigins ?? []).map((o) =>
      checkOrigin('allowedRedirectOrigins', o),
    ),
    exemptMethods: new Set(
      [...(input.exemptMethods ?? DEFAULTS.exemptMethods)].map((m) => m.toUpperCase()),
    ),
    sessionProtection: protection,
    negotiate: input.negotiate !== false,
    session: Object.freeze({
      ...sessionCookie,
      idleTimeout,
      absoluteTimeout,
      touchInterval,
      store,
      onStoreError,
      keepOnLogin,
    }),
    remember: Object.freeze({
      ...rememberCookie,
      duration: seconds(
        'remember.duration',
        rememberIn.duration,
        DEFAULTS.remember.duration,
        1,
        MAX_COOKIE_AGE,
      ),
      refreshEachRequest: rememberIn.refreshEachRequest === true,
      format,
    }),
    revocation,
    now: input.now ?? Date.now,
  })
}
