import { deletionCookie, serializeCookie } from '../cookie/serialize.ts'
import type { Session } from '../session/session.ts'
import type { UserId } from '../shared/types.ts'
import type { AuthOutcome } from './outcome.ts'
import type { RememberStrategy } from './remember/strategy.ts'
import { type RequestState, storeUnavailable } from './request-state.ts'

/** Headers an adapter must add to the response; produced once, just before headers are sent. */
export interface ResponseEffects {
  /** `Set-Cookie` values to append. */
  readonly cookies: string[]
  /** Add `Cookie` to `Vary`: the response depends on the session. */
  readonly vary: boolean
  /** Replace `Cache-Control` with `private, no-store`: the response sets a session cookie. */
  readonly noStore: boolean
  /**
   * Store writes the response should wait for before it ends (server-side sessions only). Never
   * rejects: resolves to `null`, or to a 503 outcome to send instead when a write failed and the
   * headers are not out yet.
   */
  readonly pending?: Promise<AuthOutcome | null>
}

/** The effects of a request that used the session and changed nothing (shared: never mutated). */
const VARY_ONLY: ResponseEffects = Object.freeze({
  cookies: Object.freeze([]) as unknown as string[],
  vary: true,
  noStore: false,
})

/**
 * The response's share of the request: the session written (or deleted), the remember-me change
 * carried out, the sessions the request ended, and the store writes to wait for. `null` when the
 * request touched nothing. A response with a 5xx status persists no session changes; while the
 * store is down, a login or logout (or a failed remember-me restore with `onStoreError: 'fail'`)
 * answers 503 rather than pretend it worked, and other changes are simply not kept.
 * `loggedIn`: whether the request ends with a user.
 */
export function commitResponse<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  remember: RememberStrategy,
  status: number,
  loggedIn: boolean,
): ResponseEffects | null {
  const session = state.session
  const change = state.remember.change
  if (session === undefined && change.kind === 'none') return null
  const cookies: string[] = []
  if (
    state.storeDown &&
    (session?._rotate === true ||
      change.kind === 'issue' ||
      (state.storeOutcome !== undefined && !loggedIn))
  ) {
    return { cookies, vary: true, noStore: false, pending: Promise.resolve(storeUnavailable()) }
  }
  let afterWrites: (() => Promise<void>) | undefined
  // A failed request persists nothing; neither does one whose store is down (its cookies stay,
  // so the visitor is logged in again once the store is back).
  if (status < 500 && !state.storeDown) {
    if (session !== undefined) commitSession(state, session, cookies)
    // The common request (no remember-me change, no refresh) leaves the cookie alone.
    if (change.kind !== 'none' || state.options.remember.refreshEachRequest) {
      afterWrites = remember.commit(state, session, cookies)
    }
  }
  if (cookies.length === 0 && state.pending === undefined) {
    // The common request: it read the session and changed nothing.
    return session === undefined ? null : VARY_ONLY
  }
  const effects: ResponseEffects = {
    cookies,
    vary: session !== undefined || cookies.length > 0,
    noStore: cookies.length > 0,
  }
  if (state.pending === undefined && afterWrites === undefined) return effects
  const writes = state.pending ?? []
  state.pending = undefined
  return {
    ...effects,
    pending: Promise.all(writes)
      .then(() => afterWrites?.())
      .then(
        () => null,
        (error: unknown) => state.storeFailed('save', error) ?? storeUnavailable(),
      ),
  }
}

function commitSession<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  session: Session,
  cookies: string[],
): void {
  const o = state.options.session
  const backend = state.manager._backend
  const previous = state.sessionValue
  // Every copy of the session this request ends is refused from now on (cookie sessions);
  // whether another request had ended it first is read before.
  if (state.endsLogin && previous !== undefined) {
    state.loginEndedMeanwhile(session)
    backend.end?.(previous)
  }
  // A permanent session outlives a logout that empties it (Flask keeps `_permanent` there), so
  // the next login on this browser is permanent too.
  if (session.isEmpty && !session.permanent) {
    if (previous !== undefined || state.sessionRejected) {
      cookies.push(deletionCookie(o.name, o.attributes))
    }
    endSessions(state, undefined)
    return
  }
  const now = state.nowSeconds()
  const touchDue = !session._isNew && now - session._lastActive >= o.touchInterval
  // Nothing to end either: a login or logout rotates, and a session that replaced an expired
  // one is new, so it is not empty unless it was modified.
  if (!session._modified && !session._rotate && !state.sessionKeyRotated && !touchDue) return
  // Ended by a logout elsewhere while this request ran: never write the old login back.
  if (state.loginEndedMeanwhile(session)) return
  const saved = backend.save(session, now, previous, session._rotate)
  state.track(saved.pending)
  // The session loaded from `previous` lives on, updated in place or moved to a new id by a
  // rotation that replaces its record in the same write; an expired one does not.
  endSessions(state, state.sessionRejected ? undefined : previous)
  const maxAge = session.permanent
    ? Math.max(
        0,
        Math.floor(Math.min(now + o.idleTimeout, session._createdAt + o.absoluteTimeout) - now),
      )
    : undefined
  // A store session keeps its cookie value across saves: no Set-Cookie unless it changed (or
  // the browser's expiry of a permanent session moves).
  if (saved.value !== previous || maxAge !== undefined) {
    cookies.push(
      serializeCookie(o.name, saved.value, { ...o.attributes, maxAge }, state.options.now()),
    )
  }
}

/**
 * Ends the sessions behind the session cookie values this request presented, except `kept`
 * (the value whose session this response saves): the record of a session rejected as expired,
 * and after a login, a remember-me restore or a logout, every value the request carried (a
 * browser sends several of one name when cookies were set for other paths or domains, or
 * planted from a sibling subdomain: the login must not leave the other one logged in). Invalid
 * values are ignored by the backend. Nothing is read when neither applies (the common request).
 */
function endSessions<User extends object, Id extends UserId, Auth>(
  state: RequestState<User, Id, Auth>,
  kept: string | undefined,
): void {
  const previous = state.sessionValue
  const backend = state.manager._backend
  if (!state.endPresented) {
    if (previous !== undefined && previous !== kept) state.track(backend.destroy(previous))
    return
  }
  // Every session value the request presented, `previous` included: store records are
  // destroyed, sealed sessions that carried a login go on the revocation list (the one this
  // request was read from is ended at the start of the commit).
  for (const value of state.presentedSessions()) {
    if (value === kept) continue
    state.track(backend.destroy(value))
    if (value !== previous) backend.end?.(value)
  }
}
