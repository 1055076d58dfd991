import type { AdapterRequest } from '../shared/types.ts'

/**
 * The request as loaders and view functions see it: the adapter's facts plus lazily parsed URL
 * and query. Built at most once per request, and only when something asks.
 */
export class RequestInfo {
  readonly #adapter: AdapterRequest
  readonly #origin: string | undefined
  #url: URL | undefined

  constructor(adapter: AdapterRequest, origin?: string) {
    this.#adapter = adapter
    this.#origin = origin
  }

  /** Upper-case HTTP method. */
  get method(): string {
    return this.#adapter.method
  }
  /** Path and query string as requested, e.g. `/protected?x=1`. */
  get pathWithQuery(): string {
    return this.#adapter.url
  }
  /** Path without the query string. */
  get path(): string {
    const p = this.#adapter.url
    const q = p.indexOf('?')
    return q === -1 ? p : p.slice(0, q)
  }
  /** `scheme://host[:port]` the full URL is built from: the configured `origin`, else the request's own. */
  get origin(): string {
    return this.#origin ?? this.#adapter.origin
  }
  /** The full URL, built from the configured `origin` (or the request's own) and the path. */
  get url(): URL {
    if (this.#url === undefined) {
      const base = this.origin
      const path = this.#adapter.url
      // Concatenate rather than resolve: resolving '//evil.com/x' against the origin would
      // change the host. An absolute-form or '*' request target is treated as '/'.
      const rooted = path.startsWith('/') ? path : '/'
      try {
        this.#url = new URL(base + rooted)
      } catch {
        // An origin the framework could not describe (no Host header): keep at least the path.
        this.#url = new URL(`http://localhost${rooted}`)
      }
    }
    return this.#url
  }
  /** The first value of a query parameter, or `null`. */
  query(name: string): string | null {
    if (this.#adapter.url.indexOf('?') === -1) return null
    return this.url.searchParams.get(name)
  }
  /** A request header by name (case-insensitive), first value when repeated. */
  header(name: string): string | undefined {
    return this.#adapter.header(name.toLowerCase())
  }
  /** The client address the framework trusts (never a raw X-Forwarded-For). */
  get clientAddress(): string | undefined {
    return this.#adapter.clientAddress
  }
  /** The framework's own request object. */
  get raw(): unknown {
    return this.#adapter.raw
  }
}
