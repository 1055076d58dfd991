import type { UserId } from '../shared/types.ts'
import { REVOCATION_ID } from './revocations.ts'
import type { AuthState, Flash, Session } from './session.ts'

/** What a stored session decodes to, before timeouts are checked. */
export interface SessionInit {
  /** The app's data, owned by the session that receives it (absent: see `dataJson`). */
  data?: Record<string, unknown> | undefined
  /** The app's data as JSON, for inits shared through a cache (parsed when first needed). */
  dataJson?: string | undefined
  auth: AuthState
  flashes: Flash[]
  permanent: boolean
  /** Seconds since the epoch. */
  createdAt: number
  /** Seconds since the epoch. */
  lastActive: number
  /** Where a store keeps the session (id and hash tag). */
  handle?: { readonly id: string; readonly tag: string } | undefined
  /** A sealed session's id, for the revocation list (absent in sessions sealed before ids). */
  sid?: string | undefined
}

/**
 * Serialises a session to compact JSON. Short field names keep sealed cookies small:
 * s id (sealed sessions), c created, t last active, p permanent, a login state, d data, f flashes.
 * `withoutNext` leaves out the `next` kept by `useSessionForNext` (when it would not fit in a cookie).
 */
export function encodePayload(
  session: Session<object>,
  lastActive: number,
  withoutNext = false,
): string {
  const out: Record<string, unknown> = { c: session._createdAt, t: lastActive }
  if (session._sid !== undefined) out.s = session._sid
  if (session._permanent) out.p = 1
  const auth = compactAuth(session._auth, withoutNext)
  if (auth !== undefined) out.a = auth
  for (const _ in session._data) {
    out.d = session._data
    break
  }
  const flashes = compactFlashes(session._flashes)
  if (flashes !== undefined) out.f = flashes
  return JSON.stringify(out)
}

/** The login state in its compact stored form, or `undefined` when there is none. */
export function compactAuth(
  a: AuthState,
  withoutNext = false,
): Record<string, unknown> | undefined {
  const auth: Record<string, unknown> = {}
  if (a.userId !== undefined) auth.u = a.userId
  if (a.fresh !== undefined) auth.f = a.fresh ? 1 : 0
  if (a.identifier !== undefined) auth.i = a.identifier
  if (a.rememberSeconds !== undefined) auth.r = a.rememberSeconds
  if (a.version !== undefined) auth.v = a.version
  if (a.next !== undefined && !withoutNext) auth.n = a.next
  for (const _ in auth) return auth
  return undefined
}

/** Flashes in their compact stored form, or `undefined` when there are none. */
export function compactFlashes(flashes: readonly Flash[]): [string, string][] | undefined {
  return flashes.length === 0 ? undefined : flashes.map((f) => [f.category, f.message])
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isId = (v: unknown): v is UserId =>
  (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))

/** A decoded session whose data the receiver owns. */
export type OwnedSessionInit = SessionInit & { data: Record<string, unknown> }

/**
 * Like {@link decodePayload}, for an init the cookie backend's cache hands to many requests: each
 * session copies the login state and the flash list, the flashes themselves are frozen (the app
 * receives them from `consumeFlashes`), and the data is kept as JSON (each session parses its own
 * copy when it first reads it). The login state and the list are not frozen: copying a frozen
 * object or array is several times slower in V8 than copying a plain one.
 */
export function decodeCachedPayload(json: string): SessionInit | null {
  const init = decodePayload(json)
  if (init === null) return null
  let dataJson: string | undefined
  for (const _ in init.data) {
    dataJson = JSON.stringify(init.data)
    break
  }
  for (const flash of init.flashes) Object.freeze(flash)
  return {
    dataJson,
    auth: init.auth,
    flashes: init.flashes,
    permanent: init.permanent,
    createdAt: init.createdAt,
    lastActive: init.lastActive,
    sid: init.sid,
  }
}

/**
 * Parses what {@link encodePayload} wrote. The input was authenticated before this runs, but the
 * shape is still checked so that a format change can never crash a request: anything unexpected
 * returns `null` (the request goes on as anonymous).
 */
export function decodePayload(json: string): OwnedSessionInit | null {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    return null
  }
  return isObject(raw) ? fromCompact(raw) : null
}

/** Checks and converts the compact form (`s`, `c`, `t`, `p`, `a`, `d`, `f`) shared by every backend. */
export function fromCompact(raw: Record<string, unknown>): OwnedSessionInit | null {
  const { s, c, t, p, a, d, f } = raw
  if (typeof c !== 'number' || typeof t !== 'number' || !Number.isFinite(c + t)) return null
  if (s !== undefined && (typeof s !== 'string' || !REVOCATION_ID.test(s))) return null
  const auth: AuthState = {}
  if (a !== undefined) {
    if (!isObject(a)) return null
    if (a.u !== undefined) {
      if (!isId(a.u)) return null
      auth.userId = a.u
    }
    if (a.f !== undefined) auth.fresh = a.f === 1
    if (a.i !== undefined) {
      if (typeof a.i !== 'string' && a.i !== null) return null
      auth.identifier = a.i
    }
    if (typeof a.r === 'number') auth.rememberSeconds = a.r
    if (typeof a.v === 'string' || typeof a.v === 'number') auth.version = a.v
    if (typeof a.n === 'string') auth.next = a.n
  }
  let data: Record<string, unknown> = Object.create(null)
  if (d !== undefined) {
    if (!isObject(d)) return null
    data = Object.setPrototypeOf(d, null) as Record<string, unknown>
  }
  const flashes: Flash[] = []
  if (f !== undefined) {
    if (!Array.isArray(f)) return null
    for (const item of f) {
      if (!Array.isArray(item) || typeof item[0] !== 'string' || typeof item[1] !== 'string') {
        return null
      }
      flashes.push({ category: item[0], message: item[1] })
    }
  }
  const init: OwnedSessionInit = {
    data,
    auth,
    flashes,
    permanent: p === 1,
    createdAt: c,
    lastActive: t,
  }
  if (s !== undefined) init.sid = s
  return init
}
