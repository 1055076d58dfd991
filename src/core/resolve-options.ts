import type { CookieAttributes } from '../cookie/serialize.ts'
import { validateCookieOptions } from '../cookie/serialize.ts'
import { LoginManagerError } from '../shared/errors.ts'
import type { UserId } from '../shared/types.ts'
import { asciiHost } from './next-url.ts'
import { checkOptionKeys } from './option-keys.ts'
import {
  type CookieOptions,
  DEFAULTS,
  type KeepOnLogin,
  MAX_COOKIE_AGE,
  type ManagerOptions,
  type ResolvedOptions,
  type RevocationOptions,
} from './options.ts'
import { estimateSecretBits, MIN_SECRET_BITS } from './secret-strength.ts'

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
export function resolveOptions<User extends object, Id extends UserId, Auth>(
  input: ManagerOptions<User, Id, Auth>,
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
