import {
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
  incomingHeaders,
  type MaybeResponse,
  replyResponse,
} from './fetch-response.ts'

export type { MaybeResponse } from './fetch-response.ts'

import type { FetchGuardedHandler, FetchLogin, FetchRequestContext } from './fetch-types.ts'

export type {
  FetchAuthHandler,
  FetchGuardedHandler,
  FetchLogin,
  FetchRequestContext,
} from './fetch-types.ts'

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
    return startRequest(
      manager,
      new FetchRequest(request, address, request, incomingHeaders(context)),
    )
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
