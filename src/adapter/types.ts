export type { AdapterRequest } from '../shared/types.ts'
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
