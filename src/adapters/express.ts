import { IncomingMessage, type ServerResponse } from 'node:http'
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express'
import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import { LoginManagerError } from '../core/errors.ts'
import type { LoginManager } from '../core/login-manager.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { RequestAdapter, UserId } from '../core/types.ts'
import {
  applyBeforeHeaders,
  holdEndForStore,
  hookEndForStore,
  hookEndPrototype,
  hookWriteHead,
  hookWriteHeadPrototype,
  rawHeader,
  sendOutcome,
} from './node.ts'

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
  /**
   * Flask's `init_app`: gives every request of `app` a `req.auth`, created on first read, with no
   * middleware layer at all (a route that never reads it pays nothing). Install it on each app
   * that has routes using login-manager (a mounted sub-app has its own request object); guards
   * work with or without it. With a session store, handlers that are not behind a guard must
   * `await req.auth.getSession()` before reading the session synchronously (or use the
   * middleware, which loads it first).
   */
  install(app: Application): void
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
  #rawHeaders: readonly string[] | undefined
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
    // From rawHeaders: reading req.headers would make Node build the whole object. Kept: Express
    // requests change prototype on every request, so each property read on them is a slow one.
    this.#rawHeaders ??= this.#req.rawHeaders
    return rawHeader(this.#rawHeaders, name)
  }
  get clientAddress() {
    // Honours Express's `trust proxy` setting; a raw X-Forwarded-For is never read here. Without
    // a trusted proxy the socket address is the answer, and skips Express's proxy-addr work.
    const req = this.#req
    return this.#settings()?.['trust proxy'] ? req.ip : req.socket?.remoteAddress
  }
  get caseSensitiveRouting() {
    // Express's routers (and the paths of `app.use`) ignore letter case unless the app enables it.
    return Boolean(this.#settings()?.['case sensitive routing'])
  }
  /**
   * The app's settings directly: what `app.get(name)` answers (a mounted app's settings inherit
   * its parent's), without Express's accessor. The app is read from the request's prototype
   * (Express's `app.request`, which holds it): a read on the request itself is a slow lookup.
   */
  #settings(): Record<string, unknown> | undefined {
    const req = this.#req
    const proto = Object.getPrototypeOf(req) as { app?: unknown } | null
    const app = (proto !== null && Object.hasOwn(proto, 'app') ? proto.app : req.app) as
      | { settings?: Record<string, unknown> }
      | undefined
    return app?.settings
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

  // Where the auth object of a request lives: in Express's per-request `res.locals`, under a
  // private symbol. Not on the request itself: adding any property to Node's request or response
  // objects costs more than everything else login-manager does in a request (measured with
  // callgrind: ~20k instructions; `res.locals` is a dictionary object, where a new key is cheap),
  // and a WeakMap keyed by the request is worse still (its entry refers back to its key, an
  // ephemeron cycle the garbage collector pays for on every request). Without `res.locals`
  // (a plain node:http server) it goes on the request.
  const SLOT = Symbol('login-manager.auth')
  type Slots = { [SLOT]?: RequestAuth<User, Id> }
  const localsOf = (res: ServerResponse | undefined): Slots | undefined => {
    const locals = (res as { locals?: unknown } | undefined)?.locals
    return typeof locals === 'object' && locals !== null ? (locals as Slots) : undefined
  }
  /** The auth object kept for a request, given its response's `res.locals` (if any). */
  const slotIn = (req: object | undefined, locals: Slots | undefined) =>
    locals === undefined ? (req as Slots | undefined)?.[SLOT] : locals[SLOT]
  /** The auth object kept for the request/response pair, if any. */
  const slotOf = (req: object | undefined, res: ServerResponse | undefined) =>
    slotIn(req, localsOf(res))
  // The request whose auth object was created last, while its response has not committed yet.
  // Most handlers run straight after their guard and write their response before returning, so
  // the handler's `req.auth` and the `writeHead` hook find the auth object by an identity check
  // rather than by reading `req.res` and `res.locals`: Express moves every request and response
  // to its app's prototype, and V8 then resolves most property reads on them in its runtime
  // (≈ 0.17 µs each in a paired benchmark, bench/README.md). Cleared at commit, so no finished
  // request is kept alive (at most the last one, until the next request, if it never answers);
  // any other request is found through its slot as before.
  let currentReq: object | undefined
  let currentRes: object | undefined
  let currentAuth: RequestAuth<User, Id> | undefined
  /** The response prototype whose writeHead is known to be hooked (see `create`). */
  let hookedProto: object | null | undefined
  const find = (req: Request): RequestAuth<User, Id> | undefined =>
    req === currentReq ? currentAuth : slotOf(req, req.res)
  const RESPONSE = Symbol('login-manager.response-auth')
  const RESPONSE_END = Symbol('login-manager.response-end')
  // The response hooks find the auth object through the request (Node's `res.req`).
  const lookup = (res: ServerResponse): RequestAuth<User, Id> | undefined => {
    if (res !== currentRes) return slotOf(res.req, res)
    const auth = currentAuth
    currentReq = currentRes = currentAuth = undefined
    return auth
  }

  /** Creates the request's auth object and arranges for its cookies to reach the response. */
  const create = (
    req: Request,
    res: Response,
    locals: Slots | undefined = localsOf(res),
  ): RequestAuth<User, Id> => {
    const auth = manager.createAuth(new ExpressRequestAdapter(req))
    const slots: Slots = locals ?? (req as Slots)
    slots[SLOT] = auth
    currentReq = req
    currentRes = res
    currentAuth = auth
    // Express gives each app its own response prototype: hooking its writeHead once is much
    // cheaper than patching every response. The prototype hooked last is remembered.
    const proto = Object.getPrototypeOf(res) as object | null
    if (proto !== hookedProto || proto === null) {
      if (hookWriteHead(res, RESPONSE, lookup)) hookedProto = proto
      else applyBeforeHeaders(res, auth)
    }
    if (!manager._backend.sync && !hookEndForStore(res, RESPONSE_END, lookup)) {
      holdEndForStore(res, auth)
    }
    return auth
  }

  // Request prototypes given a `req.auth` getter: `true` when it creates the auth object on first
  // read (`install`, Flask's `init_app`), `false` when it only returns the one a guard or the
  // middleware created (so that a route outside them sees `undefined`, whatever ran before).
  // Express gives each app its own prototype; a mounted app's inherits from its parent's.
  const getters = new WeakMap<object, boolean>()
  /**
   * Gives `proto` (an app's request prototype) an `auth` getter; false for prototypes shared
   * beyond Express (node's own `IncomingMessage.prototype`, `Object.prototype`), left untouched.
   */
  const defineGetter = (proto: object | null, lazy: boolean): boolean => {
    if (proto === null) return false
    const defined = getters.get(proto)
    if (defined === true || defined === lazy) return true
    if (proto === IncomingMessage.prototype || proto === Object.prototype) return false
    getters.set(proto, lazy)
    Object.defineProperty(proto, 'auth', {
      configurable: true,
      enumerable: false,
      get: lazy
        ? function auth(this: Request) {
            if (this === currentReq) return currentAuth
            // Each read of a request or response property is a slow lookup (see `currentReq`).
            const res = this.res
            const locals = localsOf(res)
            return (
              slotIn(this, locals) ?? (res === undefined ? undefined : create(this, res, locals))
            )
          }
        : function auth(this: Request) {
            return find(this)
          },
      // Another library may own `req.auth` (express-jwt, express-oauth2-jwt-bearer): its
      // assignment becomes the request's own property, as it would without login-manager.
      set(this: Request, value: unknown) {
        Object.defineProperty(this, 'auth', {
          configurable: true,
          enumerable: true,
          writable: true,
          value,
        })
      },
    })
    return true
  }

  /** Makes `req.auth` return `auth`: through a prototype's getter, else as an own property. */
  const expose = (req: Request, auth: RequestAuth<User, Id>): void => {
    // A getter (this app's, or inherited from the app it is mounted on) may already answer;
    // assigning would go through its setter (an own property: slow).
    const target = req as Partial<AuthRequest<User, Id>>
    if (target.auth === auth) return
    if (defineGetter(Object.getPrototypeOf(req) as object | null, false) && target.auth === auth) {
      return
    }
    target.auth = auth
  }

  const middleware: RequestHandler = function loginManagerMiddleware(req, res, next) {
    const auth = find(req) ?? create(req, res)
    expose(req, auth)
    if (manager._backend.sync) {
      next()
      return
    }
    auth.prepare().then((outcome) => (outcome === null ? next() : sendOutcome(res, outcome)), next)
  }

  const install = (app: Application) => {
    const proto = (app as unknown as { request?: unknown }).request
    if (typeof proto !== 'object' || proto === null) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'login.install(app): expected an Express application (express()), which has app.request',
      )
    }
    if (getters.get(proto) === true) return
    // Hooked now, before any middleware can capture the unhooked methods per response.
    const responseProto = (app as unknown as { response?: unknown }).response
    if (typeof responseProto === 'object' && responseProto !== null) {
      hookWriteHeadPrototype(responseProto, RESPONSE, lookup)
      if (!manager._backend.sync) hookEndPrototype(responseProto, RESPONSE_END, lookup)
    }
    defineGetter(proto, true)
  }

  const authOf = (req: Request): RequestAuth<User, Id> => {
    const auth = (req as Partial<AuthRequest<User, Id>>).auth
    if (auth === undefined) {
      throw new LoginManagerError(
        'ERR_INVALID_OPTION',
        'req.auth is missing: call login.install(app) or add app.use(login.middleware) before routes that use login-manager',
      )
    }
    return auth
  }

  const guard = (fresh: boolean, handler: GuardedHandler<User, Id> | undefined): RequestHandler => {
    // A function of its arguments, not a closure: the synchronous path allocates none per request.
    const proceed = (
      outcome: AuthOutcome | null,
      req: Request,
      res: Response,
      next: NextFunction,
    ): unknown => {
      if (outcome !== null) return sendOutcome(res, outcome)
      if (handler === undefined) return next()
      return handler(req as GuardedRequest<User, Id>, res, next)
    }
    return function loginGuard(req, res, next) {
      // Not `req.auth`: its getter would create the auth object without loading a store session.
      const locals = localsOf(res)
      const existing = slotIn(req, locals)
      const created = existing === undefined
      const auth = existing ?? create(req, res, locals)
      // Behind `install`, the prototype's getter already answers: nothing to expose.
      if (created && !getters.has(Object.getPrototypeOf(req) as object)) expose(req, auth)
      if (created && !manager._backend.sync) {
        // No middleware loaded the store session: load it here.
        const guardAfterLoad = async () => {
          const unavailable = await auth.prepare()
          if (unavailable !== null) return sendOutcome(res, unavailable)
          return proceed(await auth.guard(fresh), req, res, next)
        }
        guardAfterLoad().catch(next)
        return
      }
      let decision: AuthOutcome | null | Promise<AuthOutcome | null>
      try {
        decision = auth.guard(fresh)
        // The common case — a logged-in user loaded synchronously — needs no promise.
        if (!(decision instanceof Promise)) {
          const result = proceed(decision, req, res, next)
          if (result instanceof Promise) result.catch(next)
          return
        }
      } catch (error) {
        next(error)
        return
      }
      decision.then((outcome) => proceed(outcome, req, res, next)).catch(next)
    }
  }

  return {
    middleware,
    install,
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
