// The public types of `login-manager/fetch`, re-exported by `./fetch.ts`.
import type { AuthOutcome, GuardedAuth, RequestAuth, UserId } from '../adapter/index.ts'
import type { MaybeResponse } from './fetch-response.ts'

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
   * fills this in by itself. Its socket address is the default client address, and its parsed
   * `headers` are read instead of the `Request`'s (they hold the same header lines, and are
   * already built).
   */
  incoming?:
    | {
        readonly socket?: { readonly remoteAddress?: string | undefined } | null
        readonly headers?: Readonly<Record<string, string | string[] | undefined>>
      }
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
