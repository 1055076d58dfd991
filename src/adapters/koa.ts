import type { Context, Middleware, Next } from 'koa'
import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import { cacheControlFor } from '../core/cache-control.ts'
import type { LoginManager } from '../core/login-manager.ts'
import { encodeLocation } from '../core/next-url.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { RequestAdapter, UserId } from '../core/types.ts'
import { addVaryCookie, rawHeader } from './headers.ts'

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
  /** Guard: redirect to the login view (or 401) unless logged in. */
  loginRequired(): Middleware<GuardedState<User, Id>>
  /** Guard: logged in and fresh. */
  freshLoginRequired(): Middleware<GuardedState<User, Id>>
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

class KoaRequestAdapter implements RequestAdapter {
  readonly #ctx: Context
  readonly caseSensitiveRouting: boolean
  constructor(ctx: Context, caseSensitiveRouting: boolean) {
    this.#ctx = ctx
    this.caseSensitiveRouting = caseSensitiveRouting
  }
  get method() {
    return this.#ctx.method
  }
  get pathWithQuery() {
    return this.#ctx.originalUrl
  }
  header(name: string): string | undefined {
    // From rawHeaders: reading req.headers would make Node build the whole object.
    return rawHeader(this.#ctx.req.rawHeaders, name)
  }
  get clientAddress() {
    // Honours Koa's `app.proxy` setting.
    return this.#ctx.ip
  }
  get origin() {
    // Built from protocol and host: `ctx.origin` is not the request origin in every Koa version.
    return `${this.#ctx.protocol}://${this.#ctx.host}`
  }
  get raw() {
    return this.#ctx
  }
}

function send(ctx: Context, outcome: AuthOutcome): void {
  ctx.status = outcome.status
  if (outcome.type === 'redirect') {
    const location = encodeLocation(outcome.location)
    ctx.set('Location', location)
    ctx.type = 'text/plain; charset=utf-8'
    ctx.body = `Redirecting to ${location}`
    return
  }
  for (const [name, value] of Object.entries(outcome.headers ?? {})) ctx.set(name, value)
  if (outcome.body === undefined || outcome.body === null) {
    ctx.body = null
    ctx.status = outcome.status
  } else if (typeof outcome.body === 'string') {
    if (!ctx.response.get('content-type')) ctx.type = 'text/plain; charset=utf-8'
    ctx.body = outcome.body
  } else {
    ctx.body = outcome.body
  }
}

/**
 * Creates the Koa (v2 and v3) integration.
 * @param options - `caseSensitiveRouting`: how your router matches letter case (default: as
 *   `@koa/router`, without it).
 * @throws LoginManagerError `ERR_NO_USER_LOADER` when the manager has no loader yet.
 * @example
 * ```ts
 * const login = koaLogin(manager)
 * app.use(login.middleware)
 * router.get('/protected', login.loginRequired(), (ctx) => {
 *   ctx.body = `Logged in as: ${ctx.state.auth.user.id}`
 * })
 * ```
 */
export function koaLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
  options: KoaLoginOptions = {},
): KoaLogin<User, Id> {
  manager.assertReady()
  const caseSensitive = options.caseSensitiveRouting === true

  const middleware: Middleware<AuthState<User, Id>> = async function loginManager(ctx, next) {
    const auth = manager.createAuth(new KoaRequestAdapter(ctx, caseSensitive))
    ctx.state.auth = auth
    if (!manager._backend.sync) {
      const unavailable = await auth.prepare()
      if (unavailable !== null) {
        send(ctx, unavailable)
        return
      }
    }
    // A thrown error skips the commit: nothing of a failed request is persisted (as for 5xx).
    await next()
    const effects = auth.commit(ctx.status)
    if (effects === null) return
    for (const cookie of effects.cookies) ctx.append('Set-Cookie', cookie)
    if (effects.vary) {
      const vary = ctx.response.get('vary')
      // Koa 2 answers '' for a missing header, Koa 3 undefined.
      const next = addVaryCookie(vary === undefined || vary === '' ? undefined : String(vary))
      if (next !== undefined) ctx.set('Vary', next)
    }
    const cacheControl = cacheControlFor(effects, ctx.response.get('cache-control'))
    if (cacheControl !== undefined) ctx.set('Cache-Control', cacheControl)
    // Cookie sessions have no store writes to wait for: no extra promise hop.
    if (effects.pending === undefined) return
    const failure = await effects.pending
    if (failure) {
      ctx.remove('Set-Cookie')
      send(ctx, failure)
    }
  }

  const guard = (fresh: boolean): Middleware<GuardedState<User, Id>> =>
    async function loginGuard(ctx, next: Next) {
      const auth = ctx.state.auth as RequestAuth<User, Id>
      // guard() answers synchronously for a logged-in user loaded synchronously (the common case).
      const decision = auth.guard(fresh)
      const outcome = decision instanceof Promise ? await decision : decision
      if (outcome !== null) {
        send(ctx as unknown as Context, outcome)
        return
      }
      await next()
    }

  return {
    middleware,
    loginRequired: () => guard(false),
    freshLoginRequired: () => guard(true),
    send,
  }
}
