import type { UserId } from '../shared/types.ts'
import type { ResolvedOptions } from './options.ts'
import type { RequestInfo } from './request-info.ts'

/**
 * How long after a login (seconds) a dropped login still counts as "right after": the first
 * request after a login comes seconds later; one lost then points at the loader, not at a user
 * deleted since.
 */
export const RECENT_LOGIN_SECONDS = 300

/**
 * Hosts whose plain-HTTP pages browsers count as secure contexts, so that they keep `Secure`
 * cookies from them: `localhost`, `*.localhost`, 127.0.0.0/8 and `::1` (W3C Secure Contexts,
 * "potentially trustworthy origin").
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  )
}

/**
 * The page the browser posted from, as the browser sees it: the `Origin` header (sent with
 * every form post), else the request's own URL. Behind a proxy that terminates TLS the request
 * URL may say http while the browser is on https; the `Origin` header does not.
 */
function browserUrl(request: RequestInfo): URL {
  const origin = request.header('origin')
  if (origin !== undefined && origin !== 'null') {
    try {
      return new URL(origin)
    } catch {
      // Not a URL: fall back to the request's own.
    }
  }
  return request.url
}

/**
 * The warning for a login answered over plain HTTP to a host other than localhost while the
 * session cookie is `Secure`: the browser drops the cookie, and the login silently loops back to
 * the login page. `undefined` when the cookies will reach the browser.
 */
export function insecureLoginWarning(
  request: RequestInfo,
  options: ResolvedOptions,
): string | undefined {
  if (options.session.attributes.secure !== true) return undefined
  // The common case in production, decided without parsing a URL on every login.
  if (request.header('origin')?.startsWith('https://') === true) return undefined
  const url = browserUrl(request)
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return undefined
  const cookies = [options.session, options.remember]
    .filter((cookie) => cookie.attributes.secure === true)
    .map((cookie) => cookie.name)
    .join(' and ')
  return (
    `a login was answered over plain HTTP (${url.origin}) with Secure cookies (${cookies}). ` +
    'Browsers keep Secure cookies from http:// pages only on localhost, so this one is dropped ' +
    'and the next page is anonymous: the login loops back to the login page. Serve the app ' +
    'over HTTPS (behind a proxy that terminates TLS, make your framework trust it: Express ' +
    "app.set('trust proxy', …), Fastify trustProxy, Koa app.proxy; or set the `origin` option), " +
    'or open it on http://localhost, or, for development only, give the cookies names without ' +
    "the __Host- prefix and secure: false (session: { name: 'session', secure: false }, " +
    "remember: { name: 'remember', secure: false })."
  )
}

/**
 * The warning for a login dropped because the user loader did not find the user right after the
 * login: most often a loader that forgot to `return`, or one that looks the id up under another
 * type or key than `loginUser` stored.
 */
export function lostLoginWarning(id: UserId, answer: unknown, ageSeconds: number): string {
  const shown = JSON.stringify(id).slice(0, 100)
  const cause =
    answer === undefined
      ? 'The loader returned undefined: if it has a block body, check that it returns the user ' +
        '(`(id) => { return users.get(id) ?? null }`).'
      : 'The loader returned null: check that it finds users by the id loginUser stores ' +
        '(getId(), else user.id, or the getUserId option), of the same type (a number stays a number).'
  return (
    `userLoader did not find the user ${shown}, logged in ${Math.max(0, ageSeconds)} s ago, so ` +
    `that login was dropped and the request is anonymous (cookieRejected 'unknown-user'). ${cause} ` +
    'This warning is shown once, and not when NODE_ENV is production.'
  )
}

/** True when `NODE_ENV` is `production` (in Node, Bun and Deno alike). */
export function isProduction(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env
  return env?.NODE_ENV === 'production'
}
