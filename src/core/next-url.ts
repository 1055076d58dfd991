/**
 * The login URL with its `next` parameter (Flask-Login's `login_url` / `make_next_param`), and
 * the validator for a user-supplied `next`. The builders reproduce Python's `urllib.parse`
 * byte for byte because the expected outputs come from Flask-Login's tests; the validator is
 * stricter than anything Flask-Login ships and checks the exact string that goes in `Location`.
 *
 * @module
 */

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

const FORM_SAFE = new Uint8Array(128)
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~') {
  FORM_SAFE[ch.charCodeAt(0)] = 1
}
const HEX = '0123456789ABCDEF'
const utf8 = new TextEncoder()

/**
 * Form-encodes a value like Python's `urllib.parse.quote_plus`: `A-Z a-z 0-9 _ . - ~` stay,
 * space becomes `+`, every other byte of the UTF-8 encoding becomes `%XX` (upper-case hex).
 * Lone surrogates are encoded as U+FFFD instead of throwing (`encodeURIComponent` would throw).
 *
 * @example
 * ```ts
 * formEncode('/prot?x=1') // '%2Fprot%3Fx%3D1'
 * formEncode('a b/é')     // 'a+b%2F%C3%A9'
 * ```
 */
export function formEncode(value: string): string {
  let out = ''
  for (const byte of utf8.encode(value)) {
    if (byte < 128 && FORM_SAFE[byte] === 1) out += String.fromCharCode(byte)
    else if (byte === 0x20) out += '+'
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`
  }
  return out
}

// What Werkzeug's `iri_to_uri` leaves as it is besides the unreserved characters (its
// `_to_uri_safe`): the RFC 3986 delimiters and '%', so an existing escape is never encoded twice.
// Everything else (controls, space, `"`, `<`, `>`, `\`, `^`, backtick, `{`, `|`, `}`, DEL and
// every non-ASCII character) is outside the URL code points and becomes UTF-8 `%XX`.
const LOCATION_SAFE_RE = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/
const LOCATION_UNSAFE_RUN_RE = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g
// `scheme://authority` or `//authority` at the start: the part that holds a host name.
const AUTHORITY_RE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/([^/?#]*)/
const PORT_RE = /:\d*$/
const NON_ASCII_CHAR_RE = /[\u0080-\u{10FFFF}]/u

/** UTF-8 `%XX` for every character outside {@link LOCATION_SAFE_RE}; lone surrogates as U+FFFD. */
function percentEncodeUnsafe(value: string): string {
  return value.replace(LOCATION_UNSAFE_RUN_RE, (run) => {
    let out = ''
    for (const byte of utf8.encode(run)) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`
    return out
  })
}

/**
 * A host name with each non-ASCII label in its IDNA (punycode) form, as Python's `idna` codec
 * gives it (`bücher.example` → `xn--bcher-kva.example`; ASCII labels keep their letter case).
 * Returns `undefined` when a label is not a valid international domain name. The WHATWG URL
 * parser does the conversion, so this works on every runtime.
 *
 * @example
 * ```ts
 * asciiHost('bücher.example') // 'xn--bcher-kva.example'
 * asciiHost('app.example')    // 'app.example'
 * ```
 */
export function asciiHost(host: string): string | undefined {
  if (!NON_ASCII_CHAR_RE.test(host)) return host
  const labels: string[] = []
  for (const label of host.split('.')) {
    if (!NON_ASCII_CHAR_RE.test(label)) {
      labels.push(label)
      continue
    }
    try {
      const ascii = new URL(`http://${label}/`).hostname
      if (ascii === '' || NON_ASCII_CHAR_RE.test(ascii)) return undefined
      labels.push(ascii)
    } catch {
      return undefined
    }
  }
  return labels.join('.')
}

/** An authority (`user@host:port`) with its host in IDNA form and everything else made safe. */
function encodeAuthority(authority: string): string {
  if (LOCATION_SAFE_RE.test(authority)) return authority
  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? '' : `${percentEncodeUnsafe(authority.slice(0, at))}@`
  let host = authority.slice(at + 1)
  let port = ''
  const portMatch = host.startsWith('[') ? null : PORT_RE.exec(host)
  if (portMatch !== null) {
    port = portMatch[0]
    host = host.slice(0, portMatch.index)
  }
  return `${userinfo}${percentEncodeUnsafe(asciiHost(host) ?? host)}${port}`
}

/**
 * Makes a URL safe to send as a `Location` header, the way Werkzeug's `iri_to_uri` does for
 * Flask's `redirect`: every character outside the URL code points is percent-encoded as UTF-8
 * (non-ASCII, controls, space, `"`, `<`, `>`, `\`, `^`, backtick, `{`, `|`, `}`), a non-ASCII
 * host becomes its punycode, and `%` is left alone, so existing escapes are never encoded twice.
 * A URL that needs none of this comes back unchanged (the same string). Never throws.
 *
 * Every redirect login-manager emits goes through it, on every adapter, so the header is the
 * same everywhere and a Node or Fetch runtime never refuses it (they reject characters above
 * U+00FF).
 *
 * @example
 * ```ts
 * encodeLocation('/登录?next=%2Fprotected') // '/%E7%99%BB%E5%BD%95?next=%2Fprotected'
 * encodeLocation('/a<b>"c"')               // '/a%3Cb%3E%22c%22'
 * encodeLocation('https://bücher.example/') // 'https://xn--bcher-kva.example/'
 * ```
 */
export function encodeLocation(location: string): string {
  if (LOCATION_SAFE_RE.test(location)) return location
  const authority = AUTHORITY_RE.exec(location)
  if (authority === null) return percentEncodeUnsafe(location)
  const host = authority[1] ?? ''
  const prefix = location.slice(0, authority[0].length - host.length)
  return `${prefix}${encodeAuthority(host)}${percentEncodeUnsafe(location.slice(authority[0].length))}`
}

const utf8Lenient = new TextDecoder('utf-8', { fatal: false })

/** Python's `unquote_plus` (errors='replace'): bad escapes stay literal, bad UTF-8 is U+FFFD. */
function formDecode(value: string): string {
  const text = value.replaceAll('+', ' ')
  if (!text.includes('%')) return text
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
      continue
    }
    const cp = text.codePointAt(i) ?? 0
    if (cp > 0xffff) i++
    for (const b of utf8.encode(String.fromCodePoint(cp))) bytes.push(b)
  }
  return utf8Lenient.decode(new Uint8Array(bytes))
}

/** Python's `parse_qsl(query, keep_blank_values=True)`: `&` only, empty segments skipped. */
function parseQuery(query: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const segment of query.split('&')) {
    if (segment === '') continue
    const eq = segment.indexOf('=')
    const key = eq === -1 ? segment : segment.slice(0, eq)
    const value = eq === -1 ? '' : segment.slice(eq + 1)
    pairs.push([formDecode(key), formDecode(value)])
  }
  return pairs
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
