const SPACE = 0x20
const TAB = 0x09
const DQUOTE = 0x22
// (Char codes: comparing charCodeAt results allocates no one-character strings.)

/*
 * Reading the Cookie request header (RFC 6265 §5.4 format: `name=value` pairs joined by '; ').
 *
 * Lenient on values, strict on names: a name is matched byte for byte exactly as the browser sent
 * it, never unquoted or percent-decoded, because every such "helpful" step has let an attacker
 * plant a cookie that passes for a `__Host-` one (Werkzeug CVE-2023-23934, Rack CVE-2020-8184,
 * PHP CVE-2022-31629). Nothing here throws, whatever the header holds.
 *
 * Each function walks the header once, left to right. Each step looks for the next ';' from the
 * current position, and the position of the next '=' is remembered across pairs, so a header made
 * of thousands of pairs without '=' is still scanned in linear time.
 */

/** Skips optional whitespace (SP / HTAB, RFC 7230 OWS) forwards from `start`, up to `end`. */
function skipSpaceForward(s: string, start: number, end: number): number {
  while (start < end) {
    const c = s.charCodeAt(start)
    if (c !== SPACE && c !== TAB) break
    start++
  }
  return start
}

/** Skips optional whitespace backwards from `end` (exclusive), down to `start`. */
function skipSpaceBackward(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1)
    if (c !== SPACE && c !== TAB) break
    end--
  }
  return end
}

/** The trimmed value between `start` and `end`, with one pair of surrounding quotes removed. */
function readValue(s: string, start: number, end: number): string {
  start = skipSpaceForward(s, start, end)
  end = skipSpaceBackward(s, start, end)
  if (end - start >= 2 && s.charCodeAt(start) === DQUOTE && s.charCodeAt(end - 1) === DQUOTE) {
    start++
    end--
  }
  return s.slice(start, end)
}

/**
 * Value of the FIRST cookie named exactly `name` in a Cookie header, or `undefined`.
 *
 * Names are compared byte-exactly and never decoded (so '%5F%5FHost-x', '"__Host-x"', '=__Host-x'
 * and '..Host-x' never match '__Host-x'); a nameless pair ('=v' or 'v') is ignored; surrounding
 * double quotes of a value are removed; values are NOT percent-decoded; whitespace around name and
 * value is trimmed. First wins because browsers send the most specific (longest path) cookie
 * first; that is still not a defence against cookie tossing, which only `__Host-` names give.
 *
 * Allocates nothing but the returned string.
 *
 * @example
 * ```ts
 * getCookie('xsession=1; session="2"', 'session') // '2'
 * ```
 */
export function getCookie(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string' || name.length === 0) return undefined
  const len = header.length
  const nameLen = name.length
  let pos = 0
  let eq = -1
  while (pos < len) {
    let end = header.indexOf(';', pos)
    if (end === -1) end = len
    if (eq < pos) {
      eq = header.indexOf('=', pos)
      // No '=' anywhere further on: no pair left can have a name.
      if (eq === -1) return undefined
    }
    if (eq < end) {
      const nameStart = skipSpaceForward(header, pos, eq)
      const nameEnd = skipSpaceBackward(header, nameStart, eq)
      if (nameEnd - nameStart === nameLen && header.startsWith(name, nameStart)) {
        return readValue(header, eq + 1, end)
      }
    }
    pos = end + 1
  }
  return undefined
}

/**
 * Every value of the cookies named exactly `name` in a Cookie header, in header order (repeats
 * and empty values included); `[]` when there is none. A browser sends several when cookies of
 * one name were set for different paths or domains, or planted from a sibling subdomain. Names
 * and values are treated exactly as in {@link getCookie}; nothing here throws.
 *
 * @example
 * ```ts
 * getCookies('s=attacker; a=1; s=victim', 's') // ['attacker', 'victim']
 * ```
 */
export function getCookies(header: string | undefined, name: string): string[] {
  const values: string[] = []
  if (typeof header !== 'string' || typeof name !== 'string' || name.length === 0) return values
  const len = header.length
  const nameLen = name.length
  let pos = 0
  let eq = -1
  while (pos < len) {
    let end = header.indexOf(';', pos)
    if (end === -1) end = len
    if (eq < pos) {
      eq = header.indexOf('=', pos)
      if (eq === -1) break
    }
    if (eq < end) {
      const nameStart = skipSpaceForward(header, pos, eq)
      const nameEnd = skipSpaceBackward(header, nameStart, eq)
      if (nameEnd - nameStart === nameLen && header.startsWith(name, nameStart)) {
        values.push(readValue(header, eq + 1, end))
      }
    }
    pos = end + 1
  }
  return values
}

/**
 * All cookies of a Cookie header, the first occurrence of each name winning, in a
 * null-prototype object (a cookie named '__proto__' or 'constructor' pollutes nothing). Names and
 * values are treated exactly as in {@link getCookie}. Prefer `getCookie` when one cookie is
 * wanted: it allocates no object.
 *
 * @example
 * ```ts
 * parseCookies('a=1; b=2; a=3') // { a: '1', b: '2' } (no prototype)
 * ```
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null)
  if (typeof header !== 'string') return cookies
  const len = header.length
  let pos = 0
  let eq = -1
  while (pos < len) {
    let end = header.indexOf(';', pos)
    if (end === -1) end = len
    if (eq < pos) {
      eq = header.indexOf('=', pos)
      if (eq === -1) break
    }
    if (eq < end) {
      const nameStart = skipSpaceForward(header, pos, eq)
      const nameEnd = skipSpaceBackward(header, nameStart, eq)
      if (nameEnd > nameStart) {
        const name = header.slice(nameStart, nameEnd)
        if (cookies[name] === undefined) cookies[name] = readValue(header, eq + 1, end)
      }
    }
    pos = end + 1
  }
  return cookies
}
