import type { Context, Handler, MiddlewareHandler } from 'hono'
import type { StatusCode } from 'hono/utils/http-status'
import {
  type AuthOutcome,
  type GuardedAuth,
  guardNotCalled,
  type LoginManager,
  type Reply,
  type RequestAuth,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import {
  FetchRequest,
  finishResponse,
  replacement,
  replyResponse,
  withFinish,
} from './fetch-response.ts'

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

/** `@hono/node-server` passes the Node request as `c.env.incoming` (its documented bindings). */
function nodeSocketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}

/** Where the request's cycle is kept in the context's variables. */
const CYCLE = 'loginManagerCycle'

/** A reply built by the context: headers set before with `c.header()` (CORS, say) are kept. */
function respond(c: Context, reply: Reply): Response {
  return c.newResponse(reply.body === '' ? null : reply.body, reply.status as StatusCode, {
    ...reply.headers,
  })
}

const GUARDS = {
  loginRequired: 'login',
  freshLoginRequired: 'fresh',
} as const

/**
 * Creates the Hono (v4) integration.
 * @throws LoginManagerError `ERR_NO_USER_LOADER` when the manager has no loader yet.
 * @example
 * ```ts
 * const login = honoLogin(manager)
 * const app = new Hono<AuthEnv<User>>()
 * app.use(login.middleware)
 * app.get('/protected', login.loginRequired(), (c) => c.text(`Logged in as: ${c.var.auth.user.id}`))
 * ```
 */
export function honoLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
  options: HonoLoginOptions = {},
): HonoLogin<User, Id> {
  manager.assertReady()
  const clientAddress = options.clientAddress ?? nodeSocketAddress
  type Cycle = RequestCycle<User, Id>

  const begin = (c: Context): Cycle => {
    const cycle = startRequest(manager, new FetchRequest(c.req.raw, clientAddress(c), c))
    c.set('auth', cycle.auth)
    c.set(CYCLE, cycle)
    return cycle
  }
  const cycleOf = (c: Context) => c.get(CYCLE) as Cycle | undefined

  /** Replaces the response entirely: Hono's `c.res` setter keeps the old one's headers unless cleared. */
  const replace = (c: Context, reply: Reply): void => {
    const old = c.res
    c.res = undefined
    c.res = replacement(old, reply)
  }

  const middleware: MiddlewareHandler<AuthEnv<User, Id>> = async function loginManager(c, next) {
    const cycle = begin(c)
    const loading = cycle.ready()
    if (loading !== null) {
      const failed = await loading
      if (failed !== null) {
        replace(c, failed)
        return
      }
    }
    await next()
    const headers = c.res.headers
    const finish = cycle.finish(c.res.status, {
      vary: headers.get('vary') ?? undefined,
      cacheControl: headers.get('cache-control') ?? undefined,
    })
    if (finish === null) return
    const finished = withFinish(c.res, finish)
    if (finished !== c.res) c.res = finished
    if (finish.writes === undefined) return
    const failure = await finish.writes
    if (failure !== null) replace(c, failure)
  }

  const guardMiddleware = (kind: 'login' | 'fresh'): MiddlewareHandler<GuardedEnv<User, Id>> =>
    async function loginGuard(c, next) {
      const guard = async () => {
        const reply = await (cycleOf(c) as Cycle).guard(kind)
        if (reply === null) await next()
        else c.res = respond(c, reply)
      }
      // Without login.middleware around it, the guard runs the request's cycle itself.
      if (cycleOf(c) === undefined) return middleware(c as unknown as Context, guard)
      await guard()
    }

  const guardHandler = (kind: 'login' | 'fresh', handler: GuardedHandler<User, Id>) =>
    function guardedHandler(c: Context<GuardedEnv<User, Id>>): Response | Promise<Response> {
      const existing = cycleOf(c)
      const cycle = existing ?? begin(c)
      // login.middleware around the route finishes the response; otherwise this handler does.
      const done = (response: Response | Promise<Response>) =>
        existing === undefined ? finishResponse(cycle, response) : response
      const answer = (reply: Reply | null) => done(reply === null ? handler(c) : respond(c, reply))
      const decision = cycle.guard(kind)
      return decision instanceof Promise ? decision.then(answer) : answer(decision)
    }

  const guard = (name: keyof typeof GUARDS) =>
    ((handler?: unknown) => {
      if (handler === undefined) return guardMiddleware(GUARDS[name])
      if (typeof handler === 'function') {
        return guardHandler(GUARDS[name], handler as GuardedHandler<User, Id>)
      }
      // Hono invoked the factory itself: it was passed uncalled.
      throw guardNotCalled(name, `app.get('/path', login.${name}(), handler)`)
    }) as HonoLogin<User, Id>['loginRequired']

  return {
    middleware,
    loginRequired: guard('loginRequired'),
    freshLoginRequired: guard('freshLoginRequired'),
    render: (outcome, c) => {
      const reply = renderOutcome(outcome)
      return c === undefined ? replyResponse(reply) : respond(c, reply)
    },
  }
}
