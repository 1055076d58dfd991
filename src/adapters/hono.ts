import type { Context, Handler, MiddlewareHandler } from 'hono'
import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import type { LoginManager } from '../core/login-manager.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { UserId } from '../core/types.ts'
import {
  applyEffectsToResponse,
  asNodeIncoming,
  FetchRequestAdapter,
  finishResponse,
  type NodeIncoming,
  outcomeToResponse,
} from './web.ts'

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
   * socket address under `@hono/node-server` and `undefined` elsewhere. Behind a proxy, return the
   * address your proxy vouches for.
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
  /** Guard middleware: redirect to the login view (or 401) unless logged in; narrows `c.var.auth.user`. */
  loginRequired(): MiddlewareHandler<GuardedEnv<User, Id>>
  /**
   * Wraps a handler in the guard. Needs no `login.middleware` on the route (it provides
   * `c.var.auth` itself when missing), and keeps the route a single handler, which Hono runs
   * without its middleware machinery: the cheapest way to protect a route.
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

/** `@hono/node-server` passes the Node request as `c.env.incoming`. */
function nodeIncoming(c: Context): NodeIncoming | undefined {
  return asNodeIncoming((c.env as { incoming?: unknown } | undefined)?.incoming)
}

function nodeSocketAddress(c: Context): string | undefined {
  return nodeIncoming(c)?.socket?.remoteAddress
}

/**
 * An outcome as a Response built by the context, so that headers set before with `c.header()`
 * (a CORS middleware's, say) are kept: Hono adds them only to the responses it builds itself.
 */
function render(outcome: AuthOutcome, c?: Context): Response {
  const response = outcomeToResponse(outcome)
  return c === undefined ? response : c.newResponse(response.body, response)
}

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

  const create = (c: Context): RequestAuth<User, Id> => {
    const auth = manager.createAuth(
      new FetchRequestAdapter(c.req.raw, clientAddress(c), c, nodeIncoming(c)),
    )
    c.set('auth', auth)
    return auth
  }

  const middleware: MiddlewareHandler<AuthEnv<User, Id>> = async function loginManager(c, next) {
    const auth = create(c)
    if (!manager._backend.sync) {
      const unavailable = await auth.prepare()
      if (unavailable !== null) return outcomeToResponse(unavailable)
    }
    await next()
    const effects = auth.commit(c.res.status)
    if (effects === null) return
    const updated = applyEffectsToResponse(c.res, effects)
    if (updated !== c.res) c.res = updated
    const failure = await effects.pending
    if (failure) {
      // Hono's `c.res` setter copies the old response's headers (its cookies too): clear first.
      c.res = undefined
      c.res = outcomeToResponse(failure)
    }
  }

  const guardMiddleware = (fresh: boolean): MiddlewareHandler<GuardedEnv<User, Id>> =>
    async function loginGuard(c, next) {
      const auth = (c.get('auth') as RequestAuth<User, Id> | undefined) ?? create(c)
      const outcome = await auth.guard(fresh)
      if (outcome !== null) return render(outcome, c)
      await next()
    }

  const guardHandler = (
    fresh: boolean,
    handler: GuardedHandler<User, Id>,
  ): Handler<GuardedEnv<User, Id>> =>
    function guardedHandler(c) {
      const existing = c.get('auth') as RequestAuth<User, Id> | undefined
      if (existing !== undefined) {
        // login.middleware runs around this route: it applies the cookies.
        const decision = existing.guard(fresh)
        if (decision === null) return handler(c)
        if (decision instanceof Promise) {
          return decision.then((outcome) => (outcome === null ? handler(c) : render(outcome, c)))
        }
        return render(decision, c)
      }
      const auth = create(c)
      const run = (outcome: AuthOutcome | null): Response | Promise<Response> => {
        if (outcome !== null) return finishResponse(auth, render(outcome, c))
        // The common case (cookie sessions, a synchronous handler) needs no promise at all.
        return finishResponse(auth, handler(c))
      }
      if (!manager._backend.sync) {
        return (async () => {
          const unavailable = await auth.prepare()
          if (unavailable !== null) return outcomeToResponse(unavailable)
          return run(await auth.guard(fresh))
        })()
      }
      const decision = auth.guard(fresh)
      return decision instanceof Promise ? decision.then(run) : run(decision)
    }

  return {
    middleware,
    loginRequired: ((handler?: GuardedHandler<User, Id>) =>
      handler === undefined ? guardMiddleware(false) : guardHandler(false, handler)) as HonoLogin<
      User,
      Id
    >['loginRequired'],
    freshLoginRequired: ((handler?: GuardedHandler<User, Id>) =>
      handler === undefined ? guardMiddleware(true) : guardHandler(true, handler)) as HonoLogin<
      User,
      Id
    >['freshLoginRequired'],
    render,
  }
}
