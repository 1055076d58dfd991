import { Readable } from 'node:stream'
import type { Context, Middleware, Next } from 'koa'
import {
  type AdapterRequest,
  assertGuardCalled,
  type LoginManager,
  middlewareMissing,
  type Reply,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import type { AuthState, GuardedState, KoaLogin, KoaLoginOptions } from './koa-types.ts'

export type { AuthState, GuardedState, KoaLogin, KoaLoginOptions } from './koa-types.ts'

class KoaRequest implements AdapterRequest {
  readonly #ctx: Context
  readonly caseSensitiveRouting: boolean
  constructor(ctx: Context, caseSensitiveRouting: boolean) {
    this.#ctx = ctx
    this.caseSensitiveRouting = caseSensitiveRouting
  }
  get method() {
    return this.#ctx.method
  }
  get url() {
    return this.#ctx.originalUrl
  }
  header(name: string): string | undefined {
    const value = this.#ctx.req.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
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

/** Writes a reply on the context, keeping headers set before (a CORS middleware's). */
function write(ctx: Context, reply: Reply): void {
  ctx.status = reply.status
  ctx.set(reply.headers)
  // A null body makes Koa answer 204: the status is set again after it.
  ctx.body = reply.body === '' ? null : reply.body
  ctx.status = reply.status
}

/** Replaces the response entirely: none of the app's headers survive, its stream is dropped. */
function replace(ctx: Context, reply: Reply): void {
  if (ctx.body instanceof Readable) ctx.body.destroy()
  for (const name of Object.keys(ctx.response.headers)) ctx.remove(name)
  write(ctx, reply)
}

/** A header as Koa gives it (Koa 2 answers '' for a missing one, Koa 3 undefined). */
function headerOf(ctx: Context, name: string): string | undefined {
  const value = ctx.response.get(name)
  return value === undefined || value === '' ? undefined : String(value)
}

const CYCLE = Symbol('login-manager.cycle')
type WithCycle<User extends object, Id extends UserId> = { [CYCLE]?: RequestCycle<User, Id> }

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
  const cycleOf = (ctx: object, what: string): RequestCycle<User, Id> => {
    const cycle = (ctx as WithCycle<User, Id>)[CYCLE]
    if (cycle !== undefined) return cycle
    throw middlewareMissing(what, 'add app.use(login.middleware) before your routes')
  }

  const middleware: Middleware<AuthState<User, Id>> = async function loginManager(ctx, next) {
    const cycle = startRequest(manager, new KoaRequest(ctx, caseSensitive))
    ;(ctx as WithCycle<User, Id>)[CYCLE] = cycle
    ctx.state.auth = cycle.auth
    const loading = cycle.ready()
    const failed = loading === null ? null : await loading
    if (failed !== null) return replace(ctx, failed)
    // A thrown error skips the finish: nothing of a failed request is persisted (as for 5xx).
    await next()
    const finish = cycle.finish(ctx.status, {
      vary: headerOf(ctx, 'vary'),
      cacheControl: headerOf(ctx, 'cache-control'),
    })
    if (finish === null) return
    // Headers a handler flushed early (a stream) are out: only the writes remain to wait for.
    if (!ctx.headerSent) {
      for (const cookie of finish.setCookie) ctx.append('Set-Cookie', cookie)
      if (finish.vary !== undefined) ctx.set('Vary', finish.vary)
      if (finish.cacheControl !== undefined) ctx.set('Cache-Control', finish.cacheControl)
    }
    if (finish.writes === undefined) return
    const failure = await finish.writes
    if (failure !== null && !ctx.headerSent) replace(ctx, failure)
  }

  const guard = (name: 'loginRequired' | 'freshLoginRequired') => {
    const kind = name === 'loginRequired' ? 'login' : 'fresh'
    return (none?: unknown): Middleware<GuardedState<User, Id>> => {
      assertGuardCalled(name, none, `router.get('/path', login.${name}(), handler)`)
      return async function loginGuard(ctx, next: Next) {
        const decision = cycleOf(ctx, `login.${name}()`).guard(kind)
        const reply = decision instanceof Promise ? await decision : decision
        if (reply !== null) return write(ctx as unknown as Context, reply)
        await next()
      }
    }
  }

  return {
    middleware,
    loginRequired: guard('loginRequired'),
    freshLoginRequired: guard('freshLoginRequired'),
    auth: (ctx) => cycleOf(ctx, 'login.auth(ctx)').auth,
    send: (ctx, outcome) => write(ctx, renderOutcome(outcome)),
  }
}
