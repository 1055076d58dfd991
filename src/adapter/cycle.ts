import type { RequestAuth } from '../core/auth.ts'
import { cacheControlFor } from '../core/cache-control.ts'
import type { LoginManager } from '../core/login-manager.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { UserId } from '../shared/types.ts'
import { isStoreUnavailable, STORE_UNAVAILABLE, writeResult } from './failure.ts'
import { renderOutcome } from './render.ts'
import type { AdapterRequest, Reply, ResponseFinish } from './types.ts'
import { addVaryCookie } from './vary.ts'

/** A guard's or a store's outcome as the reply an adapter writes. */
function replyFor(outcome: AuthOutcome | null): Reply | null {
  if (outcome === null) return null
  return isStoreUnavailable(outcome) ? STORE_UNAVAILABLE : renderOutcome(outcome)
}

/** A store write that rejected after all: treated as a failed write. */
const failedWrite = (): Reply => STORE_UNAVAILABLE

/**
 * One request as login-manager sees it, from the adapter's first call to the response's
 * headers. An adapter creates it with {@link startRequest}, exposes {@link auth} to the app in
 * its framework's idiom, and calls {@link ready}, {@link guard} and {@link finish} at the moments
 * they name; every decision (what a guard answers, which headers a response gets, what a failed
 * store answers) is taken here, so every adapter behaves the same.
 */
export class RequestCycle<User extends object, Id extends UserId = string> {
  /** The per-request auth object the app uses (`req.auth`, `c.var.auth`, `ctx.state.auth`, …). */
  readonly auth: RequestAuth<User, Id>
  /**
   * The session lives in a store, so the response may have writes to wait for
   * ({@link ResponseFinish.writes}): an adapter whose framework ends responses itself (Node's
   * `res.end`) holds the end until they settle. `false` for cookie sessions, which never wait.
   */
  readonly writesToStore: boolean
  readonly #request: AdapterRequest
  /** `undefined`: not started; `null`: nothing to load or loaded; else the load under way. */
  #loading: Promise<Reply | null> | null | undefined
  /** The store-failure reply a failed load left for the guard and the response. */
  #failure: Reply | undefined
  /** The session is loaded (or there was nothing to load): guards decide synchronously. */
  #loaded = false
  #finished = false

  /** @internal Adapters call {@link startRequest}. */
  constructor(manager: LoginManager<User, Id>, request: AdapterRequest) {
    this.auth = manager.createAuth(request)
    this.#request = request
    this.writesToStore = !manager._backend.sync
  }

  /**
   * Loads the request's session from the store when it carries one, before the app runs. Returns
   * `null` synchronously when there is nothing to load (cookie sessions, a request without a
   * session cookie). Otherwise resolves to `null` once loaded, or to the store-failure
   * {@link Reply} to send instead of running the app when the store failed and `onStoreError` is
   * `'fail'` (with `'anonymous'` the request goes on without a login). Never rejects; calling it
   * again answers the same.
   */
  ready(): null | Promise<Reply | null> {
    if (this.#loading !== undefined) return this.#loading
    if (!this.writesToStore || this.#request.header('cookie') === undefined) {
      this.#loading = null
      this.#loaded = true
      return null
    }
    this.#loading = this.auth.loadStoreSession().then(
      (failure) => {
        const reply = writeResult(failure)
        if (reply !== null) this.#failure = reply
        this.#loaded = true
        return reply
      },
      () => {
        this.#failure = STORE_UNAVAILABLE
        this.#loaded = true
        return STORE_UNAVAILABLE
      },
    )
    return this.#loading
  }

  /**
   * A guard's decision: `null` lets the request through to the handler; otherwise the
   * {@link Reply} to send instead (the login view's redirect, a 401, a `204` for an exempt
   * method, the refresh view for `'fresh'`, the store-failure 503). Loads the session first if
   * {@link ready} has not. Synchronous when the user loads synchronously. Throws or rejects only
   * for the app's own errors (a throwing loader or handler): pass those to the framework's error
   * path.
   */
  guard(kind: 'login' | 'fresh'): Reply | null | Promise<Reply | null> {
    if (!this.#loaded) {
      const loading = this.ready()
      if (loading !== null) return loading.then(() => this.#decide(kind))
    }
    return this.#decide(kind)
  }

  #decide(kind: 'login' | 'fresh'): Reply | null | Promise<Reply | null> {
    if (this.#failure !== undefined) return this.#failure
    const decision = this.auth.decideGuard(kind)
    if (decision === null) return null
    if (decision instanceof Promise) return decision.then(replyFor)
    return replyFor(decision)
  }

  /**
   * What to add to the response: call it once, right before the response's headers go out,
   * with its status and the `Vary` / `Cache-Control` the app set (`current`). Returns `null` when
   * the request touched nothing (the common case for static files), and on any later call.
   *
   * When {@link ResponseFinish.writes} resolves to a {@link Reply} (a store write failed, or the
   * session failed to load with `onStoreError: 'fail'`), the adapter discards the response it
   * was about to send — status, every header, body — and sends that reply instead. If the
   * headers are already out (a response that flushed early), it ends the response as it is: the
   * failure has been reported through the `storeError` event.
   */
  finish(
    status: number,
    current: { vary?: string | undefined; cacheControl?: string | undefined },
  ): ResponseFinish | null {
    if (this.#finished) return null
    this.#finished = true
    const effects = this.auth.commitResponse(status)
    const failure = this.#failure
    if (effects === null) {
      if (failure === undefined) return null
      return {
        setCookie: [],
        vary: undefined,
        cacheControl: undefined,
        writes: Promise.resolve(failure),
      }
    }
    let writes: Promise<Reply | null> | undefined
    if (failure !== undefined) {
      writes = (effects.pending ?? Promise.resolve(null)).then(
        () => failure,
        () => failure,
      )
    } else if (effects.pending !== undefined) {
      writes = effects.pending.then(writeResult, failedWrite)
    }
    return {
      setCookie: effects.cookies,
      vary: effects.vary ? addVaryCookie(current.vary) : undefined,
      cacheControl: cacheControlFor(effects, current.cacheControl),
      writes,
    }
  }
}

/**
 * Begins a request: creates its {@link RequestCycle} (and auth object). Nothing is read or
 * loaded until the app or a guard asks.
 * @example
 * ```ts
 * const cycle = startRequest(manager, new MyFrameworkRequest(req))
 * req.auth = cycle.auth
 * ```
 */
export function startRequest<User extends object, Id extends UserId = string>(
  manager: LoginManager<User, Id>,
  request: AdapterRequest,
): RequestCycle<User, Id> {
  return new RequestCycle(manager, request)
}
