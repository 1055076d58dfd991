import {
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
import {
  FetchRequest,
  finishResponse,
  type MaybeResponse,
  replyResponse,
} from './fetch-response.ts'

export type { MaybeResponse } from './fetch-response.ts'

/** Per-request facts a Fetch server knows besides the `Request`. */
export interface FetchRequestContext {
  /**
   * The client address the server vouches for (Bun: `server.requestIP(req)?.address`, Deno:
   * `info.remoteAddr.hostname`). Defaults to `incoming.socket.remoteAddress` when `incoming` is given.
   */
  clientAddress?: string | undefined
  /**
   * The Node request behind the `Request`, where the server has one: `@hono/node-server` passes
   * `{ incoming, outgoing }` as the handler's second argument, so `serve({ fetch: handler })`
   * fills this in by itself. Only its socket address is read (as the default client address).
   */
  incoming?:
    | { readonly socket?: { readonly remoteAddress?: string | undefined } | null }
    | undefined
}

/** A handler that receives the auth object and returns a Response. */
export type FetchAuthHandler<User extends object, Id extends UserId = string> = (
  request: Request,
  auth: RequestAuth<User, Id>,
) => Response | Promise<Response>

/** A handler behind a login guard: `auth.user` is `User`. */
export type FetchGuardedHandler<User extends object, Id extends UserId = string> = (
  request: Request,
  auth: GuardedAuth<User, Id>,
) => Response | Promise<Response>

/** The Fetch-API integration of one {@link LoginManager} (Bun.serve, Deno.serve, Next.js route handlers, …). */
export interface FetchLogin<User extends object, Id extends UserId = string> {
  /** The auth object for a request (the session is loaded for asynchronous stores). */
  auth(request: Request, context?: FetchRequestContext): Promise<RequestAuth<User, Id>>
  /**
   * Returns `response` with the cookies and cache headers of `auth` (from {@link auth}) applied,
   * once the store writes are done; or the store-failure 503 that replaces it.
   * @throws LoginManagerError `ERR_MIDDLEWARE_MISSING` for an auth object {@link auth} did not give.
   */
  apply(auth: RequestAuth<User, Id>, response: Response): Promise<Response>
  /** Wraps a handler: creates the auth object, runs the handler, applies the cookies. */
  handle(
    handler: FetchAuthHandler<User, Id>,
  ): (request: Request, context?: FetchRequestContext) => MaybeResponse
  /**
   * Like {@link handle}, behind `loginRequired`.
   * @throws LoginManagerError `ERR_GUARD_NOT_CALLED` at once when not given a handler.
   */
  loginRequired(
    handler: FetchGuardedHandler<User, Id>,
  ): (request: Request, context?: FetchRequestContext) => MaybeResponse
  /** Like {@link handle}, behind `freshLoginRequired` (same error without a handler). */
  freshLoginRequired(
    handler: FetchGuardedHandler<User, Id>,
  ): (request: Request, context?: FetchRequestContext) => MaybeResponse
  /** A Response for an outcome of `auth.unauthorized()` / `auth.needsRefresh()`. */
  render(outcome: AuthOutcome): Response
}

/**
 * Creates the Fetch-API integration, for any `(Request) => Response` server on Node, Bun or Deno.
 * @throws LoginManagerError `ERR_NO_USER_LOADER` when the manager has no loader yet.
 * @example
 * ```ts
 * const login = fetchLogin(manager)
 * Bun.serve({
 *   fetch: login.loginRequired((req, auth) => new Response(`Logged in as: ${auth.user.id}`)),
 * })
 * ```
 */
export function fetchLogin<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
): FetchLogin<User, Id> {
  manager.assertReady()
  type Cycle = RequestCycle<User, Id>

  const start = (request: Request, context: FetchRequestContext | undefined): Cycle => {
    const address = context?.clientAddress ?? context?.incoming?.socket?.remoteAddress
    return startRequest(manager, new FetchRequest(request, address, request))
  }

  /** Runs `body` once the session is loaded: synchronously when there is nothing to load. */
  const run =
    (body: (request: Request, cycle: Cycle) => MaybeResponse) =>
    (request: Request, context?: FetchRequestContext): MaybeResponse => {
      const cycle = start(request, context)
      const loading = cycle.ready()
      if (loading === null) return body(request, cycle)
      return loading.then((failed) =>
        failed === null ? body(request, cycle) : replyResponse(failed),
      )
    }

  const guarded = (
    name: 'loginRequired' | 'freshLoginRequired',
    handler: FetchGuardedHandler<User, Id>,
  ) => {
    if (typeof handler !== 'function') {
      throw guardNotCalled(name, `wrap the handler: login.${name}((request, auth) => response)`)
    }
    const kind = name === 'loginRequired' ? 'login' : 'fresh'
    return run((request, cycle) => {
      const answer = (reply: Reply | null): MaybeResponse =>
        finishResponse(
          cycle,
          reply === null
            ? handler(request, cycle.auth as GuardedAuth<User, Id>)
            : replyResponse(reply),
        )
      const decision = cycle.guard(kind)
      return decision instanceof Promise ? decision.then(answer) : answer(decision)
    })
  }

  // The cycle of each auth object `auth()` handed out, for `apply()` to finish.
  const cycles = new WeakMap<RequestAuth<User, Id>, Cycle>()

  return {
    async auth(request, context) {
      const cycle = start(request, context)
      cycles.set(cycle.auth, cycle)
      await cycle.ready()
      return cycle.auth
    },
    async apply(auth, response) {
      const cycle = cycles.get(auth)
      if (cycle === undefined) {
        throw middlewareMissing(
          'login.apply(auth, response)',
          'pass the auth object that login.auth(request) gave for this request',
        )
      }
      return finishResponse(cycle, response)
    },
    handle: (handler) =>
      run((request, cycle) => finishResponse(cycle, handler(request, cycle.auth))),
    loginRequired: (handler) => guarded('loginRequired', handler),
    freshLoginRequired: (handler) => guarded('freshLoginRequired', handler),
    render: (outcome) => replyResponse(renderOutcome(outcome)),
  }
}
