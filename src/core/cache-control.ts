import type { ResponseEffects } from './commit.ts'

/**
 * The `Cache-Control` value an adapter sets on a response with these effects, given the value
 * the response already has (`undefined`, `''` or an empty list when none); `undefined` means
 * leave the header as it is. Decided here once, so that every adapter answers the same:
 *
 * - a response that sets a session or remember cookie: `private, no-store`, replacing whatever
 *   the app set (a `Set-Cookie` response must never be cached);
 * - a response that only depends on the session (it read it, `Vary: Cookie`): `private`, unless
 *   the app set its own `Cache-Control` (many shared caches and CDNs ignore `Vary: Cookie`, so
 *   without it one visitor's page could be served to another).
 *
 * @example
 * ```ts
 * cacheControlFor({ cookies: [], vary: true, noStore: false }, undefined) // 'private'
 * cacheControlFor({ cookies: [], vary: true, noStore: false }, 'no-cache') // undefined
 * ```
 */
export function cacheControlFor(effects: ResponseEffects, current: unknown): string | undefined {
  if (effects.noStore) return 'private, no-store'
  if (!effects.vary) return undefined
  const present = Array.isArray(current)
    ? current.some((value) => String(value).trim() !== '')
    : current !== undefined && current !== null && String(current).trim() !== ''
  return present ? undefined : 'private'
}
