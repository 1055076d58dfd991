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

/**
 * A complete response decided by login-manager (a guard's redirect, a 401, the store-failure
 * 503). Adapters write it verbatim: this status, exactly these headers, this body.
 */
export interface Reply {
  readonly status: number
  /** Lower-case names; has `content-type` whenever `body` is not empty. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** What to apply to the app's own response just before its headers go out. */
export interface ResponseFinish {
  /** Append each as a `Set-Cookie` header (after any the app set). */
  readonly setCookie: readonly string[]
  /** The new `Vary` value to set; `undefined` leaves the header as it is. */
  readonly vary: string | undefined
  /** The new `Cache-Control` value to set; `undefined` leaves the header as it is. */
  readonly cacheControl: string | undefined
  /**
   * Store writes to wait for before ending the response, so that the browser's next request
   * cannot overtake them. Resolves to `null` when they succeeded, or to the {@link Reply} that
   * replaces the response entirely when one failed (see `RequestCycle.finish`). Never rejects.
   * `undefined` when there is nothing to wait for (cookie sessions, most requests).
   */
  readonly writes: Promise<Reply | null> | undefined
}
