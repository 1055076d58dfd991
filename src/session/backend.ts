import type { CookieRejection } from '../shared/rejections.ts'
import type { SessionInit } from './payload.ts'
import type { Session } from './session.ts'

/** The outcome of reading a session cookie. */
export type LoadResult =
  | { readonly ok: true; readonly init: SessionInit; readonly rotated: boolean }
  | { readonly ok: false; readonly reason: CookieRejection }

/** What saving a session produced: the new cookie value, and for stores the pending write. */
export interface SaveResult {
  readonly value: string
  readonly pending?: Promise<void>
}

/**
 * Where sessions live. The sealed cookie keeps the whole session in the cookie; a store keeps it
 * on the server and the cookie carries a signed id. The core treats both alike.
 */
export interface SessionBackend {
  /** `true` when `load` never returns a promise, so the session can be read lazily on first access. */
  readonly sync: boolean
  /** Reads the session a cookie value points to. Never throws for untrusted input. */
  load(cookieValue: string): LoadResult | Promise<LoadResult>
  /**
   * Writes a session and returns the cookie value for it. `previous` is the cookie value the
   * request carried, if valid; `rotate` asks for a new identity (after login or logout).
   */
  save(
    session: Session<object>,
    lastActive: number,
    previous: string | undefined,
    rotate: boolean,
  ): SaveResult
  /** Forgets the session behind a cookie value (a no-op for the sealed cookie). */
  destroy(previous: string): void | Promise<void>
  /**
   * Ends the session behind a cookie value before its timeout (a logout, a login, a rotation):
   * no copy of the value is accepted again. The sealed cookie puts the session's id on the
   * revocation list; store sessions need nothing more than `destroy` or their rotation.
   */
  end?(previous: string): void
  /**
   * Server-side sessions, at a new login: links the session to the remember-me token issued on
   * its device (the token's store key), or unlinks it (`null`), from the session's next save on,
   * so that ending the session can end the token too. `required`: the login was restored from
   * that token, and the session must not be written once the token is gone. Backends without
   * server-side tokens leave it out.
   */
  linkRemember?(session: Session<object>, rememberKey: string | null, required?: boolean): void
}
