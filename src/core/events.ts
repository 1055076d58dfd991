import type { CookieRejection } from '../shared/rejections.ts'
import type { UserId, UserLike } from '../shared/types.ts'

export type { CookieRejection }

/**
 * Every event a {@link LoginManager} emits, with its payload. The first nine are Flask-Login's
 * signals under their DESIGN.md names; the others are security and store events Flask-Login
 * lacks. `Auth` is the request's auth object (`LoginManagerEvents` fills it in).
 */
export interface AuthEvents<User extends object, Id extends UserId, Auth> {
  /** `loginUser` succeeded (Flask `user_logged_in`). */
  userLoggedIn: { auth: Auth; user: User }
  /** `logoutUser` ran; `user` is the anonymous user when nobody was logged in (`user_logged_out`). */
  userLoggedOut: { auth: Auth; user: User | UserLike }
  /** A remember-me cookie restored the login (`user_loaded_from_cookie`). */
  userLoadedFromCookie: { auth: Auth; user: User }
  /** The request loader returned a user (`user_loaded_from_request`). */
  userLoadedFromRequest: { auth: Auth; user: User }
  /** `confirmLogin` marked the login fresh (`user_login_confirmed`). */
  userLoginConfirmed: { auth: Auth }
  /** `unauthorized()` ran, custom handler or not (`user_unauthorized`). */
  userUnauthorized: { auth: Auth }
  /** `needsRefresh()` ran (`user_needs_refresh`). */
  userNeedsRefresh: { auth: Auth }
  /** The current user was first read in this request (`user_accessed`). */
  userAccessed: { auth: Auth }
  /** Session protection saw a different client (`session_protected`). */
  sessionProtected: { auth: Auth; mode: 'basic' | 'strong' }
  /** A session or remember cookie was ignored; the request went on as anonymous. */
  cookieRejected: {
    auth: Auth
    cookie: 'session' | 'remember'
    reason: CookieRejection
  }
  /** A `next` value was refused by the safe-redirect check. `target` is JSON-escaped for logs. */
  redirectRejected: { auth: Auth; target: string }
  /**
   * A remember-me token that had already been used came back: the cookie was copied. Before the
   * event fires, every session restored from (or logged in with) that token's series is ended,
   * and every remember-me token of the user is revoked; `ended` counts them (fewer than all when
   * the store failed part-way, which `storeError` reports). An app may also log the user out
   * everywhere.
   */
  rememberTokenReused: {
    auth: Auth
    userId: Id
    ended: { readonly sessions: number; readonly tokens: number }
  }
  /** The session store failed or timed out (logged to stderr when nobody listens). */
  storeError: { auth: Auth | undefined; operation: string; error: unknown }
}

type Listener<T> = (payload: T) => void

/**
 * A small typed, synchronous event emitter. Emitting with no listeners costs one map lookup, so
 * events are free on the hot path unless someone listens.
 */
export class TypedEvents<Events extends object> {
  readonly #listeners = new Map<keyof Events, Listener<never>[]>()

  /**
   * Subscribes to an event; returns a function that unsubscribes.
   * @example `const off = manager.on('userLoggedIn', ({ user }) => audit(user)); off()`
   */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.#listeners.get(event) ?? []
    list.push(listener as Listener<never>)
    this.#listeners.set(event, list)
    return () => this.off(event, listener)
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.#listeners.get(event)
    if (list === undefined) return
    const index = list.indexOf(listener as Listener<never>)
    if (index >= 0) list.splice(index, 1)
    if (list.length === 0) this.#listeners.delete(event)
  }

  /** True when at least one listener is subscribed (lets callers skip building a payload). */
  hasListeners(event: keyof Events): boolean {
    return this.#listeners.has(event)
  }

  /** Calls every listener in subscription order; a listener's exception propagates, as in Flask. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.#listeners.get(event)
    if (list === undefined) return
    for (const listener of [...list]) (listener as Listener<Events[K]>)(payload)
  }
}
