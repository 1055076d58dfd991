import type { Context, MiddlewareHandler } from 'hono'
import type { StatusCode } from 'hono/utils/http-status'
import {
  assertGuardCalled,
  type LoginManager,
  type Reply,
  type RequestCycle,
  renderOutcome,
  startRequest,
  type UserId,
} from '../adapter/index.ts'
import { FetchRequest, finishResponse, incomingHeaders, replyResponse } from './fetch-response.ts'
import type {
  AuthEnv,
  GuardedEnv,
  GuardedHandler,
  HonoLogin,
  HonoLoginOptions,
} from './hono-types.ts'

export type {
  AuthEnv,
  GuardedEnv,
  GuardedHandler,
  HonoLogin,
  HonoLoginOptions,
} from './hono-types.ts'

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

const GUARDS = { loginRequired: 'login', freshLoginRequired: 'fresh' } as const

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
    const request = new FetchRequest(c.req.raw, clientAddress(c), c, incomingHeaders(c.env))
    const cycle = startRequest(manager, request)
    c.set('auth', cycle.auth)
    c.set(CYCLE, cycle)
    return cycle
  }
  const cycleOf = (c: Context) => c.get(CYCLE) as Cycle | undefined

  /** Sets the response; Hono's `c.res` setter would keep the old one's headers unless cleared. */
  const send = (c: Context, response: Response): void => {
    if (response === c.res) return
    c.res = undefined
    c.res = response
  }

  const middleware: MiddlewareHandler<AuthEnv<User, Id>> = async function loginManager(c, next) {
    const cycle = begin(c)
    const loading = cycle.ready()
    const failed = loading === null ? null : await loading
    if (failed !== null) return send(c, replyResponse(failed))
    await next()
    const finished = finishResponse(cycle, c.res)
    send(c, finished instanceof Promise ? await finished : finished)
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
      assertGuardCalled(name, handler, `app.get('/path', login.${name}(), handler)`)
      if (handler === undefined) return guardMiddleware(GUARDS[name])
      return guardHandler(GUARDS[name], handler as GuardedHandler<User, Id>)
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
