import type { NextFunction, Request, RequestHandler, Response } from 'express'
import {
  assertGuardCalled,
  type LoginManager,
  middlewareMissing,
  type Reply,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import type { ExpressLogin, GuardedHandler, GuardedRequest } from './express-types.ts'
import { finishOnHeaders, NodeAdapterRequest, type NodeRequestReader, writeReply } from './node.ts'

export type {
  AuthRequest,
  ExpressLogin,
  GuardedHandler,
  GuardedRequest,
} from './express-types.ts'

const EXPRESS: NodeRequestReader<Request> = {
  url: (req) => req.originalUrl,
  // Express's own answer under `trust proxy`; without it, the socket's, skipping proxy-addr.
  clientAddress: (req) => (req.app?.get('trust proxy') ? req.ip : req.socket?.remoteAddress),
  origin: (req) => `${req.protocol}://${req.headers.host ?? 'localhost'}`,
  // Express's routers ignore letter case unless the app enables it.
  caseSensitiveRouting: (req) => Boolean(req.app?.get('case sensitive routing')),
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
    const cycle = startRequest(manager, new NodeAdapterRequest(req, EXPRESS))
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

  const factory = (name: 'loginRequired' | 'freshLoginRequired') =>
    function guardFactory(handler?: GuardedHandler<User, Id>): RequestHandler {
      assertGuardCalled(name, handler, `app.get('/path', login.${name}(), handler)`)
      return guard(name, handler)
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
