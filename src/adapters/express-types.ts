import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type {
  AuthOutcome,
  GuardedAuth,
  LoginManager,
  RequestAuth,
  UserId,
} from '../adapter/index.ts'

/** An Express request after the middleware: `req.auth` is the per-request auth object. */
export type AuthRequest<User extends object, Id extends UserId = string> = Request & {
  auth: RequestAuth<User, Id>
}

/** An Express request after a login guard: `req.auth.user` is `User`, never `null`. */
export type GuardedRequest<User extends object, Id extends UserId = string> = Request & {
  auth: GuardedAuth<User, Id>
}

/** A route handler wrapped by a guard. */
export type GuardedHandler<User extends object, Id extends UserId = string> = (
  req: GuardedRequest<User, Id>,
  res: Response,
  next: NextFunction,
) => unknown

/** The Express integration of one {@link LoginManager}. */
export interface ExpressLogin<User extends object, Id extends UserId = string> {
  /**
   * `app.use(login.middleware)`: gives each request its `req.auth` (loading a store session
   * first). Guards work without it, each on its own route.
   */
  readonly middleware: RequestHandler
  /**
   * The typed auth object of a request (no declaration merging needed).
   * @throws LoginManagerError `ERR_MIDDLEWARE_MISSING` when neither the middleware nor a guard ran.
   */
  auth(req: Request): RequestAuth<User, Id>
  /** Route middleware: 302 to the login view (or 401) unless logged in (Flask's `login_required`). */
  loginRequired(none?: undefined): RequestHandler
  /** Wraps a handler; inside it `req.auth.user` is typed `User`. */
  loginRequired(handler: GuardedHandler<User, Id>): RequestHandler
  /** Like `loginRequired`, and the login must be fresh (Flask's `fresh_login_required`). */
  freshLoginRequired(none?: undefined): RequestHandler
  freshLoginRequired(handler: GuardedHandler<User, Id>): RequestHandler
  /** Sends an outcome from `auth.unauthorized()` / `auth.needsRefresh()` (or your own). */
  send(res: Response, outcome: AuthOutcome): void
}
