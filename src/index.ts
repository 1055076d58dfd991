/**
 * login-manager: Flask-Login's model of user sessions for TypeScript web apps. This entry point is
 * the app-facing API (the manager, the per-request auth object, outcomes, stores kept in
 * memory); each framework's integration has its own subpath (`login-manager/express`, …), and
 * what an adapter is built from lives in `login-manager/adapter`.
 * @module
 */
export type { SameSite } from './cookie/serialize.ts'
export type { GuardedAuth, LoginOptions } from './core/auth.ts'
export { RequestAuth } from './core/auth.ts'
export type { CookieRejection } from './core/events.ts'
export type { LoginManagerEvents, LoginManagerOptions, SessionInfo } from './core/login-manager.ts'
export { LoginManager } from './core/login-manager.ts'
export { AnonymousUser, UserMixin } from './core/mixins.ts'
export { loginUrl, makeNextParam, safeNextUrl } from './core/next-url.ts'
export type {
  CookieOptions,
  KeepOnLogin,
  LoginView,
  RememberOptions,
  ResolvedOptions,
  RevocationOptions,
  SessionOptions,
} from './core/options.ts'
export { DEFAULTS, MAX_COOKIE_AGE } from './core/options.ts'
export type { AuthOutcome } from './core/outcome.ts'
export { isAuthOutcome, redirect, respond } from './core/outcome.ts'
export type { RequestInfo } from './core/request-info.ts'
export { decodeCookie, encodeCookie } from './crypto/flask-cookie.ts'
export type {
  RevocationBatch,
  RevocationEntry,
  RevocationListener,
  RevocationStore,
} from './session/revocations.ts'
export type { Flash } from './session/session.ts'
export { Session } from './session/session.ts'
export type { SessionStore, StoreWrite } from './session/store.ts'
export type { ErrorCode } from './shared/errors.ts'
export { LoginManagerError } from './shared/errors.ts'
export type { MaybePromise, UserId, UserLike } from './shared/types.ts'
export type { MemoryStoreOptions } from './stores/memory.ts'
export { MemoryStore } from './stores/memory.ts'
export type { MemoryRevocationStoreOptions } from './stores/memory-revocations.ts'
export { MemoryRevocationStore } from './stores/memory-revocations.ts'
