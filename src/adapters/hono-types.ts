// The public types of `login-manager/hono`, re-exported by `./hono.ts`.
import type { Context, Handler, MiddlewareHandler } from 'hono'
import type { AuthOutcome, GuardedAuth, RequestAuth, UserId } from '../adapter/index.ts'

/** Hono `Env` with the auth object in `c.var.auth`. */
export type AuthEnv<User extends object, Id extends UserId = string> = {
  Variables: { auth: RequestAuth<User, Id> }
}

/** Hono `Env` after a login guard: `c.var.auth.user` is `User`. */
export type GuardedEnv<User extends object, Id extends UserId = string> = {
  Variables: { auth: GuardedAuth<User, Id> }
}

/** Options of {@link honoLogin}. */
export interface HonoLoginOptions {
  /**
   * The client address for session protection. Hono has no portable one: the default reads the
   * socket address under `@hono/node-server` (`c.env.incoming`) and `undefined` elsewhere. Behind
   * a proxy, return the address your proxy vouches for.
   */
  clientAddress?: (c: Context) => string | undefined
}

/** A route handler behind a guard: `c.var.auth.user` is `User`. */
export type GuardedHandler<User extends object, Id extends UserId = string> = (
  c: Context<GuardedEnv<User, Id>>,
) => Response | Promise<Response>

/** The Hono integration of one {@link LoginManager}. */
export interface HonoLogin<User extends object, Id extends UserId = string> {
  /**
   * `app.use(login.middleware)` (or on the paths that need it): puts the auth object in
   * `c.var.auth` and applies its cookies to the response.
   */
  readonly middleware: MiddlewareHandler<AuthEnv<User, Id>>
  /**
   * Guard middleware: redirect to the login view (or 401) unless logged in; narrows
   * `c.var.auth.user`. Without `login.middleware` it does the middleware's work itself.
   */
  loginRequired(): MiddlewareHandler<GuardedEnv<User, Id>>
  /**
   * Wraps a handler in the guard. Needs no `login.middleware` on the route, and keeps the route a
   * single handler, which Hono runs without its middleware machinery.
   */
  loginRequired(handler: GuardedHandler<User, Id>): Handler<GuardedEnv<User, Id>>
  /** Guard middleware: logged in and fresh. */
  freshLoginRequired(): MiddlewareHandler<GuardedEnv<User, Id>>
  /** Wraps a handler in the fresh-login guard (see {@link loginRequired}). */
  freshLoginRequired(handler: GuardedHandler<User, Id>): Handler<GuardedEnv<User, Id>>
  /**
   * A Response for an outcome of `auth.unauthorized()` / `auth.needsRefresh()`. Given the
   * context, it keeps the headers earlier middleware set with `c.header()` (such as CORS
   * headers), as Hono's own `c.body()` does.
   */
  render(outcome: AuthOutcome, c?: Context): Response
}
