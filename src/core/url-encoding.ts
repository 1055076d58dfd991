/**
 * Percent-encoding as Python and Werkzeug do it: form encoding (`quote_plus`, `unquote_plus`,
 * `parse_qsl`) for the query of the login URL, and the `Location` encoding (`iri_to_uri`) every
 * redirect goes through. Kept apart from the URL builders and the `next` validator of
 * `next-url.ts`, which both rely on it: each side can then be read and checked on its own.
 *
 * @module
 */

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
export function formDecode(value: string): string {
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
export function parseQuery(query: string): Array<[string, string]> {
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
