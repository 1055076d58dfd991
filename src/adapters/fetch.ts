import type { GuardedAuth, RequestAuth } from '../core/auth.ts'
import type { LoginManager } from '../core/login-manager.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { UserId } from '../core/types.ts'
import {
  asNodeIncoming,
  FetchRequestAdapter,
  finishResponse,
  type NodeIncoming,
  outcomeToResponse,
} from './web.ts'

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
   * fills this in by itself. Headers are then read from it, which is much cheaper than from the
   * `Request`.
   */
  incoming?: NodeIncoming | undefined
}

/** What a wrapped handler returns: a `Response`, without a promise when nothing needed one. */
export type MaybeResponse = Response | Promise<Response>

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
  /** Returns `response` with the auth object's cookies and cache headers applied. */
  apply(auth: RequestAuth<User, Id>, response: Response): Promise<Response>
  /** Wraps a handler: creates the auth object, runs the handler, applies the cookies. */
  handle(
    handler: FetchAuthHandler<User, Id>,
  ): (request: Request, context?: FetchRequestContext) => MaybeResponse
  /** Like {@link handle}, behind `loginRequired`. */
  loginRequired(
    handler: FetchGuardedHandler<User, Id>,
  ): (request: Request, context?: FetchRequestContext) => MaybeResponse
  /** Like {@link handle}, behind `freshLoginRequired`. */
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

  // A store that failed while loading: the 503 to send instead of the handler's response.
  const unavailable = new WeakMap<RequestAuth<User, Id>, AuthOutcome>()

  const create = (request: Request, context: FetchRequestContext | undefined) => {
    const incoming = asNodeIncoming(context?.incoming)
    const clientAddress = context?.clientAddress ?? incoming?.socket?.remoteAddress
    return manager.createAuth(new FetchRequestAdapter(request, clientAddress, request, incoming))
  }

  const auth = async (request: Request, context?: FetchRequestContext) => {
    const result = create(request, context)
    if (!manager._backend.sync) {
      const outcome = await result.prepare()
      if (outcome !== null) unavailable.set(result, outcome)
    }
    return result
  }

  const apply = async (a: RequestAuth<User, Id>, response: Response) => {
    const failedLoad = unavailable.get(a)
    if (failedLoad !== undefined) return outcomeToResponse(failedLoad)
    return finishResponse(a, response)
  }

  /** Runs `body` with a ready auth object: synchronously for cookie sessions. */
  const withAuth =
    (body: (request: Request, a: RequestAuth<User, Id>) => MaybeResponse) =>
    (request: Request, context?: FetchRequestContext): MaybeResponse => {
      const a = create(request, context)
      if (manager._backend.sync) return body(request, a)
      return a
        .prepare()
        .then((failed) => (failed === null ? body(request, a) : outcomeToResponse(failed)))
    }

  const handle = (handler: FetchAuthHandler<User, Id>) =>
    withAuth((request, a) => finishResponse(a, handler(request, a)))

  const guarded = (fresh: boolean, handler: FetchGuardedHandler<User, Id>) =>
    withAuth((request, a) => {
      const run = (outcome: AuthOutcome | null): MaybeResponse => {
        if (outcome !== null) return finishResponse(a, outcomeToResponse(outcome))
        return finishResponse(a, handler(request, a as GuardedAuth<User, Id>))
      }
      const decision = a.guard(fresh)
      return decision instanceof Promise ? decision.then(run) : run(decision)
    })

  return {
    auth,
    apply,
    handle,
    loginRequired: (handler) => guarded(false, handler),
    freshLoginRequired: (handler) => guarded(true, handler),
    render: outcomeToResponse,
  }
}
