import type { Context, MiddlewareHandler } from 'hono'
import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import type { LoginManager } from '../core/login-manager.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { UserId } from '../core/types.ts'
import { applyEffectsToResponse, FetchRequestAdapter, outcomeToResponse } from './web.ts'

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

/** The Hono integration of one {@link LoginManager}. */
export interface HonoLogin<User extends object, Id extends UserId = string> {
  /** `app.use(login.middleware)`: puts the auth object in `c.var.auth`. */
  readonly middleware: MiddlewareHandler<AuthEnv<User, Id>>
  /** Guard: redirect to the login view (or 401) unless logged in; narrows `c.var.auth.user`. */
  loginRequired(): MiddlewareHandler<GuardedEnv<User, Id>>
  /** Guard: logged in and fresh. */
  freshLoginRequired(): MiddlewareHandler<GuardedEnv<User, Id>>
  /** A Response for an outcome of `auth.unauthorized()` / `auth.needsRefresh()`. */
  render(outcome: AuthOutcome): Response
}

function nodeSocketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
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

  const middleware: MiddlewareHandler<AuthEnv<User, Id>> = async function loginManager(c, next) {
    const auth = manager.createAuth(new FetchRequestAdapter(c.req.raw, clientAddress(c), c))
    c.set('auth', auth)
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

  const guard = (fresh: boolean): MiddlewareHandler<GuardedEnv<User, Id>> =>
    async function loginGuard(c, next) {
      const auth = c.var.auth as RequestAuth<User, Id>
      const outcome = await (fresh ? auth.checkFreshLogin() : auth.checkLogin())
      if (outcome !== null) return outcomeToResponse(outcome)
      await next()
    }

  return {
    middleware,
    loginRequired: () => guard(false),
    freshLoginRequired: () => guard(true),
    render: outcomeToResponse,
  }
}
