/**
 * A small browser stand-in for the conformance suite: an HTTP client over `fetch` with a cookie
 * jar, never following redirects, so tests see exactly what the server sent (Flask's test client
 * with `autocorrect_location_header = False`).
 *
 * The jar follows RFC 6265 where the suite needs it (Path matching, Max-Age over Expires,
 * deletion by Max-Age=0 or a past Expires) and deliberately ignores `Domain` and `Secure`: tests
 * talk to http://127.0.0.1 while cookies may name fake domains such as `localhost.local`.
 *
 * @module
 */
import { request as httpRequest } from 'node:http'

/** One `Set-Cookie` header, parsed. */
export interface ParsedSetCookie {
  readonly name: string
  readonly value: string
  /** The `Expires` attribute as written by the server. */
  readonly expires: Date | undefined
  /** The `Max-Age` attribute, in seconds. */
  readonly maxAge: number | undefined
  readonly path: string | undefined
  readonly domain: string | undefined
  readonly secure: boolean
  readonly httpOnly: boolean
  /** Lower-cased `SameSite` value (`lax`, `strict`, `none`). */
  readonly sameSite: string | undefined
  /** The header line as received. */
  readonly raw: string
}

/** A cookie kept by the jar. */
export interface StoredCookie {
  readonly name: string
  readonly value: string
  /** The `Expires` attribute as written by the server (undefined for a browser-session cookie). */
  readonly expires: Date | undefined
  /** The `Max-Age` attribute, in seconds. */
  readonly maxAge: number | undefined
  readonly path: string
  readonly domain: string | undefined
  readonly secure: boolean
  readonly httpOnly: boolean
  readonly sameSite: string | undefined
  /** When the jar drops the cookie (ms since the epoch, client clock); undefined: at browser restart. */
  readonly expiresAt: number | undefined
}

/** Attributes for {@link CookieJar.set}. */
export interface CookieAttributes {
  expires?: Date
  maxAge?: number
  path?: string
  domain?: string
  secure?: boolean
  httpOnly?: boolean
  sameSite?: string
}

/** Parses one `Set-Cookie` header line. Returns `undefined` for a line without `name=`. */
export function parseSetCookie(line: string): ParsedSetCookie | undefined {
  const [pair = '', ...attributes] = line.split(';')
  const eq = pair.indexOf('=')
  if (eq <= 0) return undefined
  const name = pair.slice(0, eq).trim()
  let value = pair.slice(eq + 1).trim()
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
  let expires: Date | undefined
  let maxAge: number | undefined
  let path: string | undefined
  let domain: string | undefined
  let secure = false
  let httpOnly = false
  let sameSite: string | undefined
  for (const attribute of attributes) {
    const at = attribute.indexOf('=')
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase()
    const val = at === -1 ? '' : attribute.slice(at + 1).trim()
    switch (key) {
      case 'expires': {
        const time = Date.parse(val)
        if (!Number.isNaN(time)) expires = new Date(time)
        break
      }
      case 'max-age':
        if (/^-?\d+$/.test(val)) maxAge = Number(val)
        break
      case 'path':
        if (val.startsWith('/')) path = val
        break
      case 'domain':
        if (val !== '') domain = val.replace(/^\./, '').toLowerCase()
        break
      case 'secure':
        secure = true
        break
      case 'httponly':
        httpOnly = true
        break
      case 'samesite':
        sameSite = val.toLowerCase()
        break
    }
  }
  return { name, value, expires, maxAge, path, domain, secure, httpOnly, sameSite, raw: line }
}

/** RFC 6265 §5.1.4 default-path: the request path up to (not including) its last '/'. */
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/'
  const last = requestPath.lastIndexOf('/')
  return last <= 0 ? '/' : requestPath.slice(0, last)
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

/** The browser's cookie store, keyed by cookie name (Domain is ignored). */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>()

  /** The live cookie with this name, or undefined. */
  get(name: string): StoredCookie | undefined {
    const cookie = this.#cookies.get(name)
    if (cookie === undefined) return undefined
    if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) {
      this.#cookies.delete(name)
      return undefined
    }
    return cookie
  }

  /** Every live cookie. */
  all(): StoredCookie[] {
    return [...this.#cookies.keys()].flatMap((name) => this.get(name) ?? [])
  }

  /** Stores a cookie as if the server had set it (Flask's `client.set_cookie`). */
  set(name: string, value: string, attrs: CookieAttributes = {}): void {
    this.#put({
      name,
      value,
      expires: attrs.expires,
      maxAge: attrs.maxAge,
      path: attrs.path ?? '/',
      domain: attrs.domain,
      secure: attrs.secure ?? false,
      httpOnly: attrs.httpOnly ?? false,
      sameSite: attrs.sameSite,
      expiresAt: expiryOf(attrs.maxAge, attrs.expires, Date.now()),
    })
  }

  /** Removes a cookie; returns whether it was there. */
  delete(name: string): boolean {
    return this.#cookies.delete(name)
  }

  /** Applies a `Set-Cookie` received for a request to `requestPath`. */
  receive(setCookie: ParsedSetCookie, requestPath: string, now = Date.now()): void {
    this.#put({
      name: setCookie.name,
      value: setCookie.value,
      expires: setCookie.expires,
      maxAge: setCookie.maxAge,
      path: setCookie.path ?? defaultPath(requestPath),
      domain: setCookie.domain,
      secure: setCookie.secure,
      httpOnly: setCookie.httpOnly,
      sameSite: setCookie.sameSite,
      expiresAt: expiryOf(setCookie.maxAge, setCookie.expires, now),
    })
  }

  /** The `Cookie` header for a request to `requestPath`, or undefined when nothing applies. */
  header(requestPath: string): string | undefined {
    const pairs = this.all()
      .filter((c) => pathMatches(requestPath, c.path))
      // RFC 6265 §5.4: longer paths first.
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
    return pairs.length === 0 ? undefined : pairs.join('; ')
  }

  /** Drops every cookie without Expires/Max-Age, as a browser does when it closes. */
  restartBrowser(): void {
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expiresAt === undefined) this.#cookies.delete(name)
    }
  }

  #put(cookie: StoredCookie): void {
    if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) {
      this.#cookies.delete(cookie.name)
      return
    }
    this.#cookies.set(cookie.name, cookie)
  }
}

/** RFC 6265 §5.3: Max-Age wins over Expires; neither means "until the browser closes". */
function expiryOf(maxAge: number | undefined, expires: Date | undefined, now: number) {
  if (maxAge !== undefined) return maxAge <= 0 ? Number.NEGATIVE_INFINITY : now + maxAge * 1000
  return expires?.getTime()
}

/** Per-request options. */
export interface ClientRequestInit {
  /** Extra request headers. A `host` header is honoured (the request then goes through node:http, since fetch cannot override Host). */
  headers?: Record<string, string>
  /** A raw request body. */
  body?: string
}

/** What the client saw. */
export interface ClientResponse {
  readonly status: number
  readonly body: string
  readonly headers: Headers
  readonly setCookies: ParsedSetCookie[]
  /** The `Location` header, or null. */
  readonly location: string | null
}

/** Options of {@link TestClient}. */
export interface TestClientOptions {
  /** The `User-Agent` sent unless a request overrides it. @default 'conformance-client/1' */
  userAgent?: string
  /**
   * Throw on a 404 instead of returning it — Flask's suite re-raises 404s so that a typo in a
   * path fails loudly instead of passing by accident. @default true
   */
  throwOn404?: boolean
}

/** An HTTP client with a cookie jar, bound to one server. */
export class TestClient {
  readonly jar = new CookieJar()
  readonly baseUrl: string
  readonly #userAgent: string
  readonly #throwOn404: boolean

  constructor(baseUrl: string, options: TestClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, '')
    this.#userAgent = options.userAgent ?? 'conformance-client/1'
    this.#throwOn404 = options.throwOn404 ?? true
  }

  get(path: string, init?: ClientRequestInit): Promise<ClientResponse> {
    return this.request('GET', path, init)
  }

  /** POSTs `form` as `application/x-www-form-urlencoded`. */
  post(
    path: string,
    form?: Record<string, string>,
    init: ClientRequestInit = {},
  ): Promise<ClientResponse> {
    if (form === undefined) return this.request('POST', path, init)
    return this.request('POST', path, {
      ...init,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...init.headers },
      body: new URLSearchParams(form).toString(),
    })
  }

  async request(
    method: string,
    path: string,
    init: ClientRequestInit = {},
  ): Promise<ClientResponse> {
    const url = new URL(path, `${this.baseUrl}/`)
    const headers: Record<string, string> = { 'user-agent': this.#userAgent }
    for (const [name, value] of Object.entries(init.headers ?? {}))
      headers[name.toLowerCase()] = value
    const cookie = this.jar.header(url.pathname)
    if (cookie !== undefined && headers.cookie === undefined) headers.cookie = cookie

    const raw =
      headers.host === undefined
        ? await viaFetch(method, url, headers, init.body)
        : await viaNodeHttp(method, url, headers, init.body)

    const setCookies = raw.headers.getSetCookie().flatMap((line) => parseSetCookie(line) ?? [])
    const now = Date.now()
    for (const setCookie of setCookies) this.jar.receive(setCookie, url.pathname, now)
    if (raw.status === 404 && this.#throwOn404) {
      throw new Error(`404 for ${method} ${path}: a typo in the test or a missing route?`)
    }
    return { ...raw, setCookies, location: raw.headers.get('location') }
  }

  /** Drops browser-session cookies (Flask's `_delete_session`: the browser was closed). */
  restartBrowser(): void {
    this.jar.restartBrowser()
  }

  /** Removes one cookie from the jar. */
  deleteCookie(name: string): void {
    this.jar.delete(name)
  }

  /** Stores every `name=value` pair of a `Cookie` request-header value (e.g. from `testLogin`). */
  useCookieHeader(header: string): void {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq <= 0) continue
      this.jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
  }
}

interface RawResponse {
  status: number
  body: string
  headers: Headers
}

async function viaFetch(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<RawResponse> {
  const response = await fetch(url, {
    method,
    headers,
    redirect: 'manual',
    ...(body === undefined ? {} : { body }),
  })
  return { status: response.status, body: await response.text(), headers: response.headers }
}

function viaNodeHttp(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const out = new Headers()
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue
            for (const v of Array.isArray(value) ? value : [value]) out.append(name, v)
          }
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: out,
          })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
