/** A value or a promise of it: loaders and handlers may be sync or async. */
export type MaybePromise<T> = T | Promise<T>

/** A user id: whatever `getId()` returns. Stored as JSON inside the sealed session. */
export type UserId = string | number

/**
 * What login-manager reads from a user object. Every member is optional: a plain object with an
 * `id` works. Classes extending {@link UserMixin} get Flask-Login's semantics.
 */
export interface UserLike {
  /** The id stored in the session; defaults to the `id` property when absent. */
  getId?(): UserId | null | undefined
  /** `false` refuses `loginUser` unless forced. @default true */
  readonly isActive?: boolean
  /** `false` makes the guards treat the user as logged out. @default true */
  readonly isAuthenticated?: boolean
  readonly isAnonymous?: boolean
}

/**
 * What an adapter reads from its framework's request. The core reads each member lazily, and
 * only when a request needs it: an adapter answers from the framework's own request object
 * without converting it into anything else.
 */
export interface AdapterRequest {
  /** The HTTP method, upper case. */
  readonly method: string
  /** Path plus query string exactly as requested, e.g. `/a/b?x=1`. */
  readonly url: string
  /**
   * A request header by lower-case name, `undefined` when absent. Repeated headers are joined
   * as Node joins them (`cookie` with `; `, most others with `, `).
   */
  header(name: string): string | undefined
  /** The client address as the framework trusts it (its own trust-proxy setting); never a raw `X-Forwarded-For`. */
  readonly clientAddress: string | undefined
  /** `scheme://host[:port]` of the request as the framework sees it. */
  readonly origin: string
  /** The framework's own request object (Express `req`, Hono `Context`, …), for loaders. */
  readonly raw: unknown
  /**
   * Whether the framework matches route paths with their letter case, so that `loginViews`
   * prefixes are matched the same way. Read only when a guard refuses a request.
   * @default true
   */
  readonly caseSensitiveRouting?: boolean | undefined
}
