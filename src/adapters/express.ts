import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import { LoginManagerError } from '../core/errors.ts'
import type { LoginManager } from '../core/login-manager.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { RequestAdapter, UserId } from '../core/types.ts'
import { applyBeforeHeaders, holdEndForStore, sendOutcome } from './node.ts'

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
  /** `app.use(login.middleware)`: puts the auth object on `req.auth`. Loads nothing until asked. */
  readonly middleware: RequestHandler
  /** The typed auth object of a request (no declaration merging needed). */
  auth(req: Request): RequestAuth<User, Id>
  /** Route middleware: 302 to the login view (or 401) unless logged in (Flask's `login_required`). */
  loginRequired(): RequestHandler
  /** Wraps a handler; inside it `req.auth.user` is typed `User`. */
  loginRequired(handler: GuardedHandler<User, Id>): RequestHandler
  /** Like `loginRequired`, and the login must be fresh (Flask's `fresh_login_required`). */
  freshLoginRequired(): RequestHandler
  freshLoginRequired(handler: GuardedHandler<User, Id>): RequestHandler
  /** Sends an outcome from `auth.unauthorized()` / `auth.needsRefresh()` (or your own). */
  send(res: Response, outcome: AuthOutcome): void
}

class ExpressRequestAdapter implements RequestAdapter {
  readonly #req: Request
  constructor(req: Request) {
    this.#req = req
  }
  get method() {
    return this.#req.method
  }
  get pathWithQuery() {
    return this.#req.originalUrl
  }
  header(name: string): string | undefined {
    const value = this.#req.headers[name]
    return Array.isArray(value) ? value[0] : value
  }
  get clientAddress() {
    // Honours Express's `trust proxy` setting; a raw X-Forwarded-For is never read here. Without
    // a trusted proxy the socket address is the answer, and skips Express's proxy-addr work.
    const req = this.#req
    return req.app?.get('trust proxy') ? req.ip : req.socket?.remoteAddress
  }
  get origin() {
    return `${this.#req.protocol}://${this.#req.headers.host ?? 'localhost'}`
  }
  get raw() {
    return this.#req
  }
}

/**
 * Creates the Express integration: middleware, guards and helpers for one manager. Works with
 * Express 4 and 5.
 * @throws LoginManagerError `ERR_NO_USER_LOADER` when the manager has no loader yet.
 *
 * @example
 * ```ts
 * const login = expressLogin(manager)
 * app.use(login.middleware)
 * app.get('/protected', login.loginRequired((req, res) => {
 *   res.send(`Logged in as: ${req.auth.user.id}`)
 * }))
 * ```
 */
export function expressLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
): ExpressLogin<User, Id> {
  manager.assertReady()

  const middleware: RequestHandler = function loginManagerMiddleware(req, res, next) {
    const auth = manager.createAuth(new ExpressRequestAdapter(req))
    ;(req as AuthRequest<User, Id>).auth = auth
    applyBeforeHeaders(res, auth)
    if (manager._backend.sync) {
      next()
      return
    }
    holdEndForStore(res, auth)
    auth.prepare().then((outcome) => (outcome === null ? next() : sendOutcome(res, outcome)), next)
  }

  const authOf = (req: Request): RequestAuth<User, Id> => {
    const auth = (req as Partial<AuthRequest<User, Id>>).auth
    if (auth === undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'req.auth is missing: add app.use(login.middleware) before routes that use login-manager',
      )
    }
    return auth
  }

  const guard = (fresh: boolean, handler: GuardedHandler<User, Id> | undefined): RequestHandler =>
    function loginGuard(req, res, next) {
      let auth: RequestAuth<User, Id>
      try {
        auth = authOf(req)
      } catch (error) {
        next(error)
        return
      }
      const proceed = (outcome: AuthOutcome | null) => {
        if (outcome !== null) return sendOutcome(res, outcome)
        if (handler === undefined) return next()
        return handler(req as GuardedRequest<User, Id>, res, next)
      }
      let decision: AuthOutcome | null | Promise<AuthOutcome | null>
      try {
        decision = auth.guard(fresh)
        // The common case — a logged-in user loaded synchronously — needs no promise.
        if (!(decision instanceof Promise)) {
          const result = proceed(decision)
          if (result instanceof Promise) result.catch(next)
          return
        }
      } catch (error) {
        next(error)
        return
      }
      decision.then(proceed).catch(next)
    }

  return {
    middleware,
    auth: authOf,
    loginRequired: ((handler?: GuardedHandler<User, Id>) => guard(false, handler)) as ExpressLogin<
      User,
      Id
    >['loginRequired'],
    freshLoginRequired: ((handler?: GuardedHandler<User, Id>) =>
      guard(true, handler)) as ExpressLogin<User, Id>['freshLoginRequired'],
    send: (res, outcome) => sendOutcome(res, outcome),
  }
}
