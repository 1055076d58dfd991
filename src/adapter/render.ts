import { encodeLocation } from '../core/next-url.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { Reply } from './types.ts'

const TEXT = 'text/plain; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * Renders an {@link AuthOutcome} (from `auth.unauthorized()`, `auth.needsRefresh()`,
 * `redirect()`, `respond()` or a custom handler) as a complete {@link Reply}, the same on every
 * adapter:
 *
 * - a redirect: its status, `location` (made header-safe by `encodeLocation`) and a short
 *   `text/plain` body naming the target;
 * - a string body: `text/plain; charset=utf-8` unless the outcome sets its own `content-type`;
 * - any other body: JSON, `application/json; charset=utf-8` unless the outcome sets its own;
 * - no body (`undefined` or `null`): an empty body.
 *
 * The outcome's own headers are kept, with lower-case names.
 *
 * @example
 * ```ts
 * renderOutcome(redirect('/login?next=%2F'))
 * // { status: 302, headers: { location: '/login?next=%2F', 'content-type': 'text/plain; charset=utf-8' },
 * //   body: 'Redirecting to /login?next=%2F' }
 * ```
 */
export function renderOutcome(outcome: AuthOutcome): Reply {
  if (outcome.type === 'redirect') {
    const location = encodeLocation(String(outcome.location))
    return {
      status: outcome.status,
      headers: { location, 'content-type': TEXT },
      body: `Redirecting to ${location}`,
    }
  }
  const headers: Record<string, string> = {}
  if (outcome.headers !== undefined) {
    for (const [name, value] of Object.entries(outcome.headers)) {
      headers[name.toLowerCase()] = String(value)
    }
  }
  const { body } = outcome
  if (body === undefined || body === null) return { status: outcome.status, headers, body: '' }
  if (typeof body === 'string') {
    headers['content-type'] ??= TEXT
    return { status: outcome.status, headers, body }
  }
  // `JSON.stringify` gives `undefined` for a function or a symbol: an empty body then.
  const json = JSON.stringify(body) as string | undefined
  if (json === undefined) return { status: outcome.status, headers, body: '' }
  headers['content-type'] ??= JSON_TYPE
  return { status: outcome.status, headers, body: json }
}
