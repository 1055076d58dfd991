import type { NextFunction, Request, RequestHandler, Response } from 'express'
import {
  type AdapterRequest,
  type AuthOutcome,
  type GuardedAuth,
  guardNotCalled,
  type LoginManager,
  middlewareMissing,
  type Reply,
  type RequestAuth,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import { finishOnHeaders, nodeHeader, writeReply } from './node.ts'

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

class ExpressRequest implements AdapterRequest {
  readonly #req: Request
  constructor(req: Request) {
    this.#req = req
  }
  get method() {
    return this.#req.method
  }
  get url() {
    return this.#req.originalUrl
  }
  header(name: string) {
    return nodeHeader(this.#req.headers, name)
  }
  get clientAddress() {
    // Express's own answer under `trust proxy`; without it, the socket's, skipping proxy-addr.
    const req = this.#req
    return req.app?.get('trust proxy') ? req.ip : req.socket?.remoteAddress
  }
  get caseSensitiveRouting() {
    // Express's routers ignore letter case unless the app enables it.
    return Boolean(this.#req.app?.get('case sensitive routing'))
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
  const CYCLE = Symbol('login-manager.cycle')
  type WithCycle = Request & { [CYCLE]?: RequestCycle<User, Id>; auth?: unknown }

  /** Starts the request's cycle: `req.auth`, and the hooks that finish this response. */
  const begin = (req: WithCycle, res: Response): RequestCycle<User, Id> => {
    const cycle = startRequest(manager, new ExpressRequest(req))
    req[CYCLE] = cycle
    req.auth = cycle.auth
    finishOnHeaders(res, cycle)
    return cycle
  }

  const middleware: RequestHandler = function loginManagerMiddleware(req, res, next) {
    const loading = ((req as WithCycle)[CYCLE] ?? begin(req, res)).ready()
    if (loading === null) next()
    else loading.then((reply) => (reply === null ? next() : writeReply(res, reply)), next)
  }

  const guard = (
    name: 'loginRequired' | 'freshLoginRequired',
    handler: GuardedHandler<User, Id> | undefined,
  ): RequestHandler => {
    const kind = name === 'loginRequired' ? 'login' : 'fresh'
    const proceed = (reply: Reply | null, req: Request, res: Response, next: NextFunction) => {
      if (reply !== null) return writeReply(res, reply)
      if (handler === undefined) return next()
      const result = handler(req as GuardedRequest<User, Id>, res, next)
      if (result instanceof Promise) result.catch(next)
    }
    return function loginGuard(req, res, next) {
      const decision = ((req as WithCycle)[CYCLE] ?? begin(req, res)).guard(kind)
      if (decision instanceof Promise) {
        decision.then((reply) => proceed(reply, req, res, next)).catch(next)
      } else {
        proceed(decision, req, res, next)
      }
    }
  }

  /** A guard factory that fails loudly when Express calls it as middleware itself. */
  const factory = (name: 'loginRequired' | 'freshLoginRequired') =>
    function guardFactory(handler?: unknown, _res?: unknown, next?: unknown): RequestHandler {
      if (handler === undefined || typeof handler === 'function') {
        return guard(name, handler as GuardedHandler<User, Id> | undefined)
      }
      const error = guardNotCalled(name, `app.get('/path', login.${name}(), handler)`)
      if (typeof next !== 'function') throw error
      next(error)
      return undefined as never
    }

  return {
    middleware,
    auth(req) {
      const cycle = (req as WithCycle)[CYCLE]
      if (cycle === undefined) {
        throw middlewareMissing(
          'login.auth(req): no auth object for this request',
          'add app.use(login.middleware) before the routes that use login-manager, or put the route behind login.loginRequired()',
        )
      }
      return cycle.auth
    },
    loginRequired: factory('loginRequired') as ExpressLogin<User, Id>['loginRequired'],
    freshLoginRequired: factory('freshLoginRequired') as ExpressLogin<
      User,
      Id
    >['freshLoginRequired'],
    send: (res, outcome) => writeReply(res, renderOutcome(outcome)),
  }
}
