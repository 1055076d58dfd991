/**
 * Every code a {@link LoginManagerError} can carry. Each one names a mistake in the app's
 * configuration or in how it calls the library; untrusted input (cookies, `next` values) never
 * throws — it makes the request anonymous and fires a `cookieRejected` or `redirectRejected` event.
 */
export type ErrorCode =
  | 'ERR_SECRET_MISSING'
  | 'ERR_SECRET_WEAK'
  | 'ERR_INVALID_OPTION'
  | 'ERR_NO_USER_LOADER'
  | 'ERR_USER_NOT_LOADED'
  | 'ERR_SESSION_NOT_LOADED'
  | 'ERR_NO_STORE'
  | 'ERR_USER_ID'
  | 'ERR_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_TOO_LARGE'
  | 'ERR_STORE_SCHEMA'
  | 'ERR_GUARD_NOT_CALLED'
  | 'ERR_MIDDLEWARE_MISSING'
  | 'ERR_NOT_GUARDED'

/**
 * Thrown at start-up for a misconfiguration, or at run time for a misuse of the API. The message
 * starts with the code and says what to change.
 *
 * @example
 * ```ts
 * try { new LoginManager({ secret: 'short' }) }
 * catch (err) { if (err instanceof LoginManagerError && err.code === 'ERR_SECRET_WEAK') … }
 * ```
 */
export class LoginManagerError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.name = 'LoginManagerError'
    this.code = code
  }
}
