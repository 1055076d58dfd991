import { encodeLocation } from './next-url.ts'

/**
 * What a guard, `unauthorized()` or `needsRefresh()` decides, for the adapter to render in its
 * framework's own way. Custom handlers return one of these too, so one handler serves every adapter.
 */
export type AuthOutcome =
  | { readonly type: 'redirect'; readonly status: number; readonly location: string }
  | {
      readonly type: 'respond'
      readonly status: number
      /** A string is sent as `text/plain`; any other value as JSON. */
      readonly body?: unknown
      readonly headers?: Readonly<Record<string, string>>
    }

/**
 * A redirect outcome. The location is made safe for the `Location` header with
 * {@link encodeLocation} (non-ASCII and other characters outside the URL code points are
 * percent-encoded, existing escapes are kept), and every adapter sends it the same way.
 * @example `onUnauthorized: () => redirect('/sign-in')`
 */
export function redirect(location: string, status = 302): AuthOutcome {
  return { type: 'redirect', status, location: encodeLocation(String(location)) }
}

/**
 * A plain response outcome.
 * @example `onUnauthorized: () => respond(401, 'This is secret!')`
 */
export function respond(
  status: number,
  body?: unknown,
  headers?: Readonly<Record<string, string>>,
): AuthOutcome {
  return headers === undefined
    ? { type: 'respond', status, body }
    : { type: 'respond', status, body, headers }
}

/** True for values produced by {@link redirect} or {@link respond}. */
export function isAuthOutcome(value: unknown): value is AuthOutcome {
  if (typeof value !== 'object' || value === null) return false
  const type = (value as { type?: unknown }).type
  return (
    (type === 'redirect' || type === 'respond') &&
    typeof (value as { status?: unknown }).status === 'number'
  )
}
