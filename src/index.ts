export type { SameSite } from './cookie/serialize.ts'
export type { GuardedAuth, LoginOptions, ResponseEffects } from './core/auth.ts'
export { RequestAuth } from './core/auth.ts'
export type { CookieRejection } from './core/events.ts'
export type { LoginManagerEvents, LoginManagerOptions, SessionInfo } from './core/login-manager.ts'
export { LoginManager } from './core/login-manager.ts'
export { AnonymousUser, UserMixin } from './core/mixins.ts'
export {
  encodeLocation,
  formEncode,
  loginUrl,
  makeNextParam,
  safeNextUrl,
  splitUrl,
} from './core/next-url.ts'
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
export { RequestInfo } from './core/request-info.ts'
export { decodeCookie, encodeCookie } from './crypto/flask-cookie.ts'
export type { LoadResult, SaveResult, SessionBackend } from './session/backend.ts'
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
export type { AdapterRequest, MaybePromise, UserId, UserLike } from './shared/types.ts'
export type { MemoryStoreOptions } from './stores/memory.ts'
export { MemoryStore } from './stores/memory.ts'
export type { MemoryRevocationStoreOptions } from './stores/memory-revocations.ts'
export { MemoryRevocationStore } from './stores/memory-revocations.ts'
