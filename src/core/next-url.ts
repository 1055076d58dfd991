/**
 * The login URL with its `next` parameter (Flask-Login's `login_url` / `make_next_param`), and
 * the validator for a user-supplied `next`. The builders reproduce Python's `urllib.parse`
 * byte for byte because the expected outputs come from Flask-Login's tests; the validator is
 * stricter than anything Flask-Login ships and checks the exact string that goes in `Location`.
 *
 * @module
 */

import { encodeLocation, formEncode, parseQuery } from './url-encoding.ts'

// The encoders live in url-encoding.ts; these stay importable from here, where the URL helpers
// that use them are.
export { asciiHost, encodeLocation, formEncode } from './url-encoding.ts'

/**
 * The five parts of a URL as Python's `urllib.parse.urlsplit` returns them. The scheme is
 * lower-cased; the netloc is only filled when `//` follows the scheme (or starts the string);
 * nothing is decoded.
 */
export interface SplitUrl {
  scheme: string
  netloc: string
  path: string
  query: string
  fragment: string
}

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/
const TAB_OR_NEWLINE_RE = /[\t\r\n]/g

/**
 * Splits a URL the way Python's `urllib.parse.urlsplit` does. Never throws.
 *
 * @example
 * ```ts
 * splitUrl('HTTP://localhost/p?x=1#top')
 * // { scheme: 'http', netloc: 'localhost', path: '/p', query: 'x=1', fragment: 'top' }
 * splitUrl('/login?next=%2F').query // 'next=%2F'
 * ```
 */
export function splitUrl(url: string): SplitUrl {
  // Python first strips leading C0 controls and spaces and deletes tab, CR and LF anywhere, so
  // '\thttp://x' still has scheme 'http'; matching that keeps host comparisons equal.
  let start = 0
  while (start < url.length && url.charCodeAt(start) <= 0x20) start++
  let rest = url.slice(start).replace(TAB_OR_NEWLINE_RE, '')
  let scheme = ''
  let netloc = ''
  let query = ''
  let fragment = ''
  const colon = rest.indexOf(':')
  if (colon > 0 && SCHEME_RE.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase()
    rest = rest.slice(colon + 1)
  }
  if (rest.startsWith('//')) {
    let end = rest.length
    for (const delim of ['/', '?', '#']) {
      const at = rest.indexOf(delim, 2)
      if (at !== -1 && at < end) end = at
    }
    netloc = rest.slice(2, end)
    rest = rest.slice(end)
  }
  const hash = rest.indexOf('#')
  if (hash !== -1) {
    fragment = rest.slice(hash + 1)
    rest = rest.slice(0, hash)
  }
  const question = rest.indexOf('?')
  if (question !== -1) {
    query = rest.slice(question + 1)
    rest = rest.slice(0, question)
  }
  return { scheme, netloc, path: rest, query, fragment }
}

/** Reassembles split parts; a netloc, or a path that would read as one, gets its `//`. */
function joinUrl(parts: SplitUrl): string {
  let out = parts.path
  if (parts.netloc !== '' || out.startsWith('//')) {
    if (out !== '' && !out.startsWith('/')) out = `/${out}`
    out = `//${parts.netloc}${out}`
  }
  if (parts.scheme !== '') out = `${parts.scheme}:${out}`
  if (parts.query !== '') out += `?${parts.query}`
  if (parts.fragment !== '') out += `#${parts.fragment}`
  return out
}

// Two or more of '/' and '\' in any mix: browsers read '\' as '/', so any such run at the start
// of a relative reference makes it scheme-relative (another host).
const LEADING_SLASH_RUN_RE = /^[/\\]{2,}/

/**
 * Flask-Login's `make_next_param`. When the login URL has no scheme or the same scheme as
 * `currentUrl`, and no netloc or the same netloc (compared as plain strings, so `localhost` and
 * `localhost:80` differ), returns only the path and `?query` of `currentUrl` (the fragment is
 * dropped). Otherwise returns `currentUrl` unchanged.
 *
 * Deliberate fix versus Flask-Login: in the reduced form, a leading run of two or more slashes
 * or backslashes collapses to one `/`, so the result is never scheme-relative (the
 * CVE-2021-23384 class); an empty path becomes `/`.
 *
 * @example
 * ```ts
 * makeNextParam('/login', 'http://localhost/profile') // '/profile'
 * makeNextParam('https://localhost/login', 'http://localhost/profile')
 * // 'http://localhost/profile' (the scheme differs)
 * makeNextParam('/login', 'http://localhost//evil.com/x') // '/evil.com/x'
 * ```
 */
export function makeNextParam(loginUrl: string, currentUrl: string): string {
  const login = splitUrl(loginUrl)
  const current = splitUrl(currentUrl)
  const sameScheme = login.scheme === '' || login.scheme === current.scheme
  const sameHost = login.netloc === '' || login.netloc === current.netloc
  if (!(sameScheme && sameHost)) return currentUrl
  let path = current.path.replace(LEADING_SLASH_RUN_RE, '/')
  if (path === '') path = '/'
  return current.query === '' ? path : `${path}?${current.query}`
}

/**
 * Flask-Login's `login_url(login_view, next_url, next_field)`, for a login view that is already
 * a path or an absolute URL (the caller resolves route names).
 *
 * - Without `nextUrl`, returns `loginView` unchanged, unless `options.forceHost` is set: the
 *   host is then replaced anyway (Flask-Login applies `FORCE_HOST_FOR_REDIRECTS` only when it adds a next URL, so with `USE_SESSION_FOR_NEXT` its redirects lose the forced host).
 * - With `nextUrl`, sets the `nextField` query parameter (default `next`) to
 *   {@link makeNextParam}`(loginView, nextUrl)`, replacing an existing one in place or appending
 *   it, and form-encodes the whole query again.
 * - `options.forceHost` (empty means unset, as Python's `or`) replaces the netloc: a relative
 *   view becomes scheme-relative (`//good.com/login?…`), an absolute one keeps its scheme.
 * - The result is what Flask's `redirect` sends: passed through {@link encodeLocation}, so a
 *   non-ASCII view is percent-encoded (`/登录` → `/%E7%99%BB%E5%BD%95`) and a non-ASCII host
 *   becomes punycode.
 *
 * @example
 * ```ts
 * loginUrl('/login', 'http://localhost/protected')      // '/login?next=%2Fprotected'
 * loginUrl('/login?affil=cgnu', '/protected', 'n')      // '/login?affil=cgnu&n=%2Fprotected'
 * loginUrl('/login', 'http://bad.com/secret', 'next', { forceHost: 'good.com' })
 * // '//good.com/login?next=%2Fsecret'
 * loginUrl('/登录', '/protected')                         // '/%E7%99%BB%E5%BD%95?next=%2Fprotected'
 * ```
 */
export function loginUrl(
  loginView: string,
  nextUrl?: string,
  nextField = 'next',
  options?: { forceHost?: string | undefined },
): string {
  const forceHost = options?.forceHost || undefined
  if (nextUrl === undefined && forceHost === undefined) return encodeLocation(loginView)
  const parts = splitUrl(loginView)
  if (forceHost !== undefined) parts.netloc = forceHost
  if (nextUrl !== undefined) {
    const value = makeNextParam(loginView, nextUrl)
    const pairs: Array<[string, string]> = []
    let placed = false
    for (const [key, old] of parseQuery(parts.query)) {
      // Python replaces every value of the field with the one new value, at the first position.
      if (key !== nextField) pairs.push([key, old])
      else if (!placed) {
        pairs.push([key, value])
        placed = true
      }
    }
    if (!placed) pairs.push([nextField, value])
    parts.query = pairs.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&')
  }
  return encodeLocation(joinUrl(parts))
}

const DEFAULT_MAX_LENGTH = 2048
// Controls and anything invisible or blank: C0/C1/DEL (Cc), format chars such as zero-width
// joiners, BOM and bidi overrides (Cf), every separator incl. space and NBSP (Z), and lone
// surrogates (Cs), which cannot be encoded as UTF-8.
const FORBIDDEN_CHAR_RE = /[\p{Cc}\p{Cf}\p{Z}\p{Cs}]/u
// Scheme, '//', then a non-empty authority with no userinfo. Requiring the literal '//' keeps
// other parsers (Python's urlsplit, proxies, loggers) agreeing with WHATWG about the host:
// WHATWG alone would accept 'http:app.example' or 'https:///app.example'.
const ABSOLUTE_HTTP_RE = /^https?:\/\/[^/?#@]+(?:[/?#]|$)/i
const PROBE_ORIGIN = 'http://origin.invalid'

/** Normalises the allow-list through WHATWG; unusable entries are skipped, never thrown on. */
function allowedOriginSet(list: unknown): Set<string> {
  const origins = new Set<string>()
  if (!Array.isArray(list)) return origins
  for (const entry of list) {
    if (typeof entry !== 'string') continue
    try {
      const { origin } = new URL(entry)
      if (origin !== 'null') origins.add(origin)
    } catch {
      // An unparsable entry allows nothing.
    }
  }
  return origins
}

/**
 * Validates a user-supplied redirect target (`next`) before a login handler redirects to it.
 * Returns the exact string to put in the `Location` header, or `null` when the target must not
 * be used. Never throws, whatever it is given.
 *
 * Accepted:
 * - a path starting with exactly one `/` (not `//`), which stays on the current origin;
 * - an absolute `http:`/`https:` URL written as `scheme://host…`, with no userinfo, whose
 *   WHATWG origin is exactly one of `options.allowedOrigins` (none by default).
 *
 * Rejected before any parsing: non-strings, `''`, anything longer than `options.maxLength`
 * (default 2048), any control, invisible or whitespace character, and any backslash (browsers
 * read `\` as `/`). Rejected after parsing: a target whose path, once its dot segments are
 * resolved as a browser resolves them, starts with `//` (`/..//evil.com`, `/a/..//evil.com`):
 * a browser would request `//evil.com` as the path, which many servers and proxies turn into a
 * redirect to that host. Percent-encoded dots (`%2e`, `%2E`) count as dots there, as they do in
 * browsers (`/%2e%2e//evil.com` is refused); other escapes are never decoded (the framework
 * already decoded the query once), so `/%2F%2Fevil.com` is returned as the harmless path it is.
 *
 * The result is the target through {@link encodeLocation}: non-ASCII characters and the ASCII
 * characters outside the URL code points (`"`, `<`, `>`, `^`, backtick, `{`, `|`, `}`) come back
 * percent-encoded as UTF-8, everything else byte for byte (a path with dot segments is returned
 * as given; it resolves to the path that was checked).
 *
 * @example
 * ```ts
 * safeNextUrl('/account?tab=1')  // '/account?tab=1'
 * safeNextUrl('//evil.com')      // null
 * safeNextUrl('/\\evil.com')     // null
 * safeNextUrl('/..//evil.com')   // null
 * safeNextUrl('https://app.example/x', { allowedOrigins: ['https://app.example'] })
 * // 'https://app.example/x'
 * ```
 */
export function safeNextUrl(
  target: unknown,
  options?: { allowedOrigins?: readonly string[] | undefined; maxLength?: number | undefined },
): string | null {
  try {
    if (typeof target !== 'string' || target === '') return null
    const max = options?.maxLength
    const limit = typeof max === 'number' && max >= 0 ? max : DEFAULT_MAX_LENGTH
    if (target.length > limit) return null
    if (FORBIDDEN_CHAR_RE.test(target) || target.includes('\\')) return null
    const candidate = encodeLocation(target)

    if (candidate[0] === '/') {
      if (candidate[1] === '/') return null
      const url = new URL(candidate, PROBE_ORIGIN)
      return url.origin === PROBE_ORIGIN && !LEADING_SLASH_RUN_RE.test(url.pathname)
        ? candidate
        : null
    }

    if (!ABSOLUTE_HTTP_RE.test(candidate)) return null
    const url = new URL(candidate)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    if (url.username !== '' || url.password !== '') return null
    if (LEADING_SLASH_RUN_RE.test(url.pathname)) return null
    return allowedOriginSet(options?.allowedOrigins).has(url.origin) ? candidate : null
  } catch {
    // A URL the WHATWG parser refuses (or a hostile options object) is simply not safe.
    return null
  }
}
