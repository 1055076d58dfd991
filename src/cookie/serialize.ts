import { LoginManagerError } from '../shared/errors.ts'

/*
 * Writing Set-Cookie headers, strictly: every name, value and attribute is checked against the
 * RFC 6265 grammar before it is written, so nothing can inject an attribute or split a header
 * (the `cookie` package's CVE-2024-47764, Hono GHSA-26pp-8wgv-hjvm). Configuration is checked once
 * at start-up by validateCookieOptions; serializeCookie checks again because it is cheap and the
 * header is the last line of defence.
 */

/** The SameSite attribute, written capitalised (Lax, Strict, None). */
export type SameSite = 'lax' | 'strict' | 'none'

/** Attributes of one cookie. Every field is optional; an absent one is simply not written. */
export interface CookieAttributes {
  /** `Domain`; leave unset for a host-only cookie (the safe choice, and required by `__Host-`). */
  domain?: string | undefined
  /** `Path`; must start with '/'. */
  path?: string | undefined
  /** Lifetime in seconds; when set, both `Max-Age` and `Expires` (now + maxAge) are written. */
  maxAge?: number | undefined
  /** `Secure`: sent over HTTPS only. Required by `SameSite=None` and the `__Secure-`/`__Host-` prefixes. */
  secure?: boolean | undefined
  /** `HttpOnly`: hidden from page scripts. */
  httpOnly?: boolean | undefined
  /** `SameSite`, exact lower case. */
  sameSite?: SameSite | undefined
  /** `Partitioned` (CHIPS); browsers require `Secure` with it. */
  partitioned?: boolean | undefined
}

/** RFC 6265 §4.1.1 cookie-name = token (RFC 2616 §2.2): visible ASCII except separators. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** RFC 6265 §4.1.1 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no quotes here). */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
/**
 * RFC 6265 §4.1.2.3 domain-value = subdomain (RFC 1034 §3.5: letters, digits, hyphens; labels
 * not starting or ending with '-'), with the leading '.' RFC 6265 §5.2.3 tolerates. Each label is
 * delimited by '.', which is not in the label class, so the match cannot backtrack badly.
 */
const DOMAIN_VALUE =
  /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/
/**
 * RFC 6265 §4.1.1 path-value = any CHAR except CTLs or ';', starting with '/' (§5.1.4); stricter
 * than the RFC in also refusing space, which no real path needs unencoded.
 */
const PATH_VALUE = /^\/[\x21-\x3A\x3C-\x7E]*$/

/** RFC 6265bis §4.1.2: browsers ignore an attribute value longer than this many bytes. */
const MAX_ATTRIBUTE_BYTES = 1024
/** RFC 6265bis §4.1.2.1-2: browsers cap Max-Age and Expires at 400 days. */
const MAX_AGE_SECONDS = 400 * 24 * 60 * 60
const EPOCH_EXPIRES = 'Thu, 01 Jan 1970 00:00:00 GMT'
const SECURE_PREFIX = '__Secure-'
const HOST_PREFIX = '__Host-'
/** The boolean attributes, type-checked for JavaScript callers (a string 'false' is truthy). */
const FLAGS = ['secure', 'httpOnly', 'partitioned'] as const

/** Shows a rejected string in an error message without flooding it. */
function show(value: unknown): string {
  if (typeof value !== 'string') return String(value)
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
}

/**
 * The first problem with a cookie's name and attributes, as `[field, message]`, or undefined.
 * Shared by the start-up check (which wraps it in a LoginManagerError) and the serializer (which
 * throws a TypeError), so that both apply exactly the same rules.
 */
function findProblem(name: string, attrs: CookieAttributes): [string, string] | undefined {
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    return [
      'name',
      `${show(name)} is not a valid cookie name; use letters, digits and !#$%&'*+-.^_\`|~ only`,
    ]
  }
  const { domain, path, maxAge, secure, sameSite } = attrs
  if (domain !== undefined) {
    // Length first: it bounds the regex work, and the regex admits only ASCII (1 byte each).
    if (typeof domain !== 'string' || domain.length > MAX_ATTRIBUTE_BYTES) {
      return ['domain', `must be a string of at most ${MAX_ATTRIBUTE_BYTES} bytes`]
    }
    if (!DOMAIN_VALUE.test(domain)) {
      return [
        'domain',
        `${show(domain)} is not a valid domain; give a host name such as 'example.com' ` +
          '(or leave it unset for a host-only cookie)',
      ]
    }
  }
  if (path !== undefined) {
    if (typeof path !== 'string' || path.length > MAX_ATTRIBUTE_BYTES) {
      return ['path', `must be a string of at most ${MAX_ATTRIBUTE_BYTES} bytes`]
    }
    if (!PATH_VALUE.test(path)) {
      return [
        'path',
        `${show(path)} is not a valid path; it must start with '/' and hold only visible ` +
          "ASCII without ';' (percent-encode anything else)",
      ]
    }
  }
  if (maxAge !== undefined) {
    if (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > MAX_AGE_SECONDS) {
      return [
        'maxAge',
        `${show(maxAge)} is not a whole number of seconds from 0 to ${MAX_AGE_SECONDS} ` +
          '(400 days, the most browsers keep a cookie)',
      ]
    }
  }
  for (const flag of FLAGS) {
    const v = attrs[flag]
    if (v !== undefined && typeof v !== 'boolean') {
      return [flag, `${show(v)} is not a boolean; use true or false`]
    }
  }
  if (
    sameSite !== undefined &&
    sameSite !== 'lax' &&
    sameSite !== 'strict' &&
    sameSite !== 'none'
  ) {
    return ['sameSite', `${show(sameSite)} is not one of 'lax', 'strict' or 'none' (lower case)`]
  }
  if (secure !== true) {
    if (sameSite === 'none') {
      return ['sameSite', "'none' requires secure: true (browsers drop it otherwise)"]
    }
    if (attrs.partitioned === true) {
      return ['partitioned', 'requires secure: true (browsers drop it otherwise)']
    }
    if (name.startsWith(SECURE_PREFIX) || name.startsWith(HOST_PREFIX)) {
      return ['secure', `a cookie named ${show(name)} requires secure: true`]
    }
  }
  if (name.startsWith(HOST_PREFIX)) {
    if (domain !== undefined) {
      return ['domain', `a cookie named ${show(name)} must have no domain; remove it`]
    }
    if (path !== '/') {
      return ['path', `a cookie named ${show(name)} requires path '/'`]
    }
  }
  return undefined
}

/** Writes the header with already validated parts, in the documented attribute order. */
function build(
  name: string,
  value: string,
  attrs: CookieAttributes,
  maxAge: number | undefined,
  expires: string | undefined,
): string {
  let header = `${name}=${value}`
  if (maxAge !== undefined) header += `; Max-Age=${maxAge}`
  if (attrs.domain !== undefined) header += `; Domain=${attrs.domain}`
  if (attrs.path !== undefined) header += `; Path=${attrs.path}`
  if (expires !== undefined) header += `; Expires=${expires}`
  if (attrs.httpOnly === true) header += '; HttpOnly'
  if (attrs.secure === true) header += '; Secure'
  if (attrs.sameSite === 'lax') header += '; SameSite=Lax'
  else if (attrs.sameSite === 'strict') header += '; SameSite=Strict'
  else if (attrs.sameSite === 'none') header += '; SameSite=None'
  if (attrs.partitioned === true) header += '; Partitioned'
  return header
}

/** Validates for writing, turning a problem into a TypeError that names option and value. */
function checkForWrite(name: string, attrs: CookieAttributes): void {
  const problem = findProblem(name, attrs)
  if (problem !== undefined) throw new TypeError(`cookie ${problem[0]}: ${problem[1]}`)
}

/**
 * Builds one Set-Cookie header value: `Name=Value; Max-Age; Domain; Path; Expires; HttpOnly;
 * Secure; SameSite; Partitioned` (each only when set; SameSite written as Lax/Strict/None).
 *
 * @param value Must already be cookie-octets (e.g. base64url); it is not encoded here.
 * @param now Milliseconds since the epoch, for `Expires`; injectable for tests.
 * @throws {TypeError} Naming the problem when the name, value or an attribute is invalid: ';',
 *   CR, LF, spaces and the like in the name, domain or path (CVE-2024-47764 class), a value outside
 *   the cookie-octets, a bad maxAge or sameSite, or a broken `__Secure-`/`__Host-` rule.
 * @example
 * ```ts
 * serializeCookie('session', sealed, { path: '/', httpOnly: true, secure: true, sameSite: 'lax' })
 * // 'session=v1.…; Path=/; HttpOnly; Secure; SameSite=Lax'
 * ```
 */
export function serializeCookie(
  name: string,
  value: string,
  attrs: CookieAttributes,
  now: number = Date.now(),
): string {
  checkForWrite(name, attrs)
  if (typeof value !== 'string' || !COOKIE_VALUE.test(value)) {
    throw new TypeError(
      `cookie value: for ${show(name)} holds characters outside the RFC 6265 cookie-octets; ` +
        'encode it (e.g. base64url) first',
    )
  }
  const { maxAge } = attrs
  let expires: string | undefined
  if (maxAge !== undefined) {
    if (!Number.isFinite(now)) throw new TypeError(`cookie now: ${show(now)} is not a finite time`)
    expires = new Date(now + maxAge * 1000).toUTCString()
  }
  return build(name, value, attrs, maxAge, expires)
}

/**
 * The header that deletes a cookie: empty value, `Max-Age=0`,
 * `Expires=Thu, 01 Jan 1970 00:00:00 GMT`, and the same Domain, Path, Secure, HttpOnly, SameSite
 * and Partitioned as it was set with, since a browser only replaces a cookie whose name, domain and
 * path all match (fixes Flask-Login issue #683). `attrs.maxAge` is ignored.
 *
 * @throws {TypeError} When the name or attributes are invalid, as for {@link serializeCookie}.
 * @example
 * ```ts
 * deletionCookie('session', { path: '/', secure: true, httpOnly: true, sameSite: 'lax' })
 * // 'session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax'
 * ```
 */
export function deletionCookie(name: string, attrs: CookieAttributes): string {
  // maxAge plays no part in deletion, so a bad one must not block logging out.
  checkForWrite(name, attrs.maxAge === undefined ? attrs : { ...attrs, maxAge: undefined })
  return build(name, '', attrs, 0, EPOCH_EXPIRES)
}

/**
 * Start-up validation of a cookie configuration, so a mistake fails at boot rather than as a
 * silently dropped cookie. Rules: the name is an RFC 6265 token; domain and path hold valid
 * characters and at most 1024 bytes; the path starts with '/'; sameSite is exactly 'lax',
 * 'strict' or 'none' and 'none' requires secure; partitioned requires secure; a '__Secure-' name
 * requires secure; a '__Host-' name requires secure, path '/' and no domain; maxAge, if given, is
 * a whole number of seconds from 0 to 400 days (34560000).
 *
 * @param label The option path used in messages, e.g. `'remember'`.
 * @throws {LoginManagerError} `ERR_INVALID_OPTION` with the message
 *   `${label}.<field>: <what is wrong and what to do>`.
 * @example
 * ```ts
 * validateCookieOptions('remember', '__Host-remember', { path: '/', secure: true, sameSite: 'lax' })
 * ```
 */
export function validateCookieOptions(label: string, name: string, attrs: CookieAttributes): void {
  const problem = findProblem(name, attrs)
  if (problem !== undefined) {
    throw new LoginManagerError('ERR_INVALID_OPTION', `${label}.${problem[0]}: ${problem[1]}`)
  }
}
