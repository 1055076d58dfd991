// The public types of `login-manager/koa`, re-exported by `./koa.ts`.
import type { Context, Middleware } from 'koa'
import type { AuthOutcome, GuardedAuth, RequestAuth, UserId } from '../adapter/index.ts'

/** Koa state with the auth object in `ctx.state.auth`. */
export interface AuthState<User extends object, Id extends UserId = string> {
  auth: RequestAuth<User, Id>
}

/** Koa state after a login guard: `ctx.state.auth.user` is `User`. */
export interface GuardedState<User extends object, Id extends UserId = string> {
  auth: GuardedAuth<User, Id>
}

/** The Koa integration of one {@link LoginManager}. */
export interface KoaLogin<User extends object, Id extends UserId = string> {
  /** `app.use(login.middleware)`: puts the auth object in `ctx.state.auth`. */
  readonly middleware: Middleware<AuthState<User, Id>>
  /**
   * Guard: redirect to the login view (or 401) unless logged in. Needs `login.middleware`.
   * Call it: `router.get('/path', login.loginRequired(), handler)`; passed uncalled
   * (`app.use(login.loginRequired)`), it fails each request with `ERR_GUARD_NOT_CALLED`.
   */
  loginRequired(): Middleware<GuardedState<User, Id>>
  /** Guard: logged in and fresh (see {@link loginRequired}). */
  freshLoginRequired(): Middleware<GuardedState<User, Id>>
  /**
   * The auth object of a request.
   * @throws LoginManagerError `ERR_MIDDLEWARE_MISSING` when `login.middleware` did not run.
   */
  auth(ctx: Context): RequestAuth<User, Id>
  /** Renders an outcome of `auth.unauthorized()` / `auth.needsRefresh()` on the context. */
  send(ctx: Context, outcome: AuthOutcome): void
}

/** Options of {@link koaLogin}. */
export interface KoaLoginOptions {
  /**
   * Whether the app's router matches paths with their letter case; `loginViews` prefixes are
   * matched the same way. Koa has no router of its own: the default follows `@koa/router`, which
   * ignores case unless created with `sensitive: true` (then pass `true` here).
   * @default false
   */
  caseSensitiveRouting?: boolean | undefined
}
