import { LoginManagerError } from '../shared/errors.ts'

/**
 * The error for a guard factory the framework invoked itself, because the app passed it without
 * calling it (`app.use(login.loginRequired)`). `hint` shows the right call in the framework's
 * idiom, e.g. `app.get('/x', login.loginRequired(), handler)`.
 */
export function guardNotCalled(
  name: 'loginRequired' | 'freshLoginRequired',
  hint: string,
): LoginManagerError {
  return new LoginManagerError(
    'ERR_GUARD_NOT_CALLED',
    `login.${name} must be called: use login.${name}() (${hint})`,
  )
}

/** The error for a guard or `login.auth()` used where the adapter's middleware or plugin did not run. */
export function middlewareMissing(what: string, fix: string): LoginManagerError {
  return new LoginManagerError('ERR_MIDDLEWARE_MISSING', `${what}: ${fix}`)
}

/** The error for a "guarded" accessor read on a request that no login guard let through. */
export function notGuarded(accessor: string, fix: string): LoginManagerError {
  return new LoginManagerError(
    'ERR_NOT_GUARDED',
    `${accessor} is only for requests a login guard let through: ${fix}`,
  )
}

/**
 * Throws {@link guardNotCalled} when the framework invoked a guard factory itself: its first
 * argument is then a request or context object, not a handler or nothing. Every framework passes
 * what a middleware throws to its own error path (Express `next(err)`, Fastify's error handler,
 * Koa's and Hono's `onError`), so that request fails loudly, never hangs.
 */
export function assertGuardCalled(
  name: 'loginRequired' | 'freshLoginRequired',
  first: unknown,
  hint: string,
): void {
  if (first !== undefined && typeof first !== 'function') throw guardNotCalled(name, hint)
}
