import type { ResponseEffects } from '../core/auth.ts'
import { cacheControlFor } from '../core/cache-control.ts'
import { encodeLocation } from '../core/next-url.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { RequestAdapter } from '../core/types.ts'
import { addVaryCookie, rawHeader } from './headers.ts'

/** Where the path starts in an absolute URL string (`https://host/path` → index of `/path`). */
function pathStart(url: string): number {
  const scheme = url.indexOf('://')
  const slash = url.indexOf('/', scheme === -1 ? 0 : scheme + 3)
  return slash === -1 ? url.length : slash
}

/**
 * The Node request behind a Fetch `Request` when a Node server adapter passes it along
 * (`@hono/node-server` gives it as `env.incoming`): its headers are a plain object, much cheaper
 * to read than the `Headers` object such servers build on demand.
 */
export interface NodeIncoming {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Read instead of `headers` when present: Node builds `headers` lazily, at a cost. */
  readonly rawHeaders?: readonly string[] | undefined
  readonly socket?: { readonly remoteAddress?: string | undefined } | null | undefined
}

/** `value` when it looks like a Node `IncomingMessage`, else `undefined`. */
export function asNodeIncoming(value: unknown): NodeIncoming | undefined {
  const headers = (value as { headers?: unknown } | null | undefined)?.headers
  return typeof headers === 'object' && headers !== null && !(headers instanceof Headers)
    ? (value as NodeIncoming)
    : undefined
}

/**
 * A {@link RequestAdapter} over a Fetch `Request` (Hono, Bun.serve, Deno.serve, Next.js route
 * handlers). The URL is sliced, not parsed, so a request costs no `URL` object unless asked.
 */
export class FetchRequestAdapter implements RequestAdapter {
  readonly #request: Request
  readonly #clientAddress: string | undefined
  readonly #raw: unknown
  readonly #incoming: NodeIncoming | undefined
  constructor(
    request: Request,
    clientAddress: string | undefined,
    raw: unknown = request,
    incoming?: NodeIncoming,
  ) {
    this.#request = request
    this.#clientAddress = clientAddress
    this.#raw = raw
    this.#incoming = incoming
  }
  get method(): string {
    return this.#request.method
  }
  get pathWithQuery(): string {
    const url = this.#request.url
    const start = pathStart(url)
    return start === url.length ? '/' : url.slice(start)
  }
  header(name: string): string | undefined {
    const incoming = this.#incoming
    if (incoming === undefined) return this.#request.headers.get(name) ?? undefined
    if (incoming.rawHeaders !== undefined) return rawHeader(incoming.rawHeaders, name)
    const value = incoming.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }
  get clientAddress(): string | undefined {
    return this.#clientAddress
  }
  get origin(): string {
    const url = this.#request.url
    return url.slice(0, pathStart(url))
  }
  get raw(): unknown {
    return this.#raw
  }
}

/** Adds the auth effects to a Fetch `Headers` object (mutable). */
export function applyEffectsToHeaders(headers: Headers, effects: ResponseEffects): void {
  for (const cookie of effects.cookies) headers.append('set-cookie', cookie)
  if (effects.vary) {
    const next = addVaryCookie(headers.get('vary') ?? undefined)
    if (next !== undefined) headers.set('vary', next)
  }
  const cacheControl = cacheControlFor(effects, headers.get('cache-control') ?? undefined)
  if (cacheControl !== undefined) headers.set('cache-control', cacheControl)
}

/** The symbol under which `@hono/node-server`'s lightweight `Response` keeps its parts, once seen. */
let lightResponseParts: symbol | undefined

/**
 * Adds `Vary: Cookie` and the `Cache-Control` of a session-dependent response
 * ({@link cacheControlFor}) to a `Response` made by `@hono/node-server`'s lightweight `Response`
 * class without making it build a real one. That class keeps `[status, body, headers]` until
 * something reads them and then writes them straight to the socket; reading `response.headers`
 * would build a `Headers` object and move the response off that fast path (several µs). Only a
 * parts array of exactly that shape with plain-object or `Headers` headers is changed (copied,
 * never the caller's object); anything else returns false and the caller takes the standard path,
 * which sets the same headers.
 */
function addSessionHeadersToLightResponse(response: Response, effects: ResponseEffects): boolean {
  let symbol = lightResponseParts
  if (symbol === undefined) {
    symbol = Object.getOwnPropertySymbols(response).find((s) => s.description === 'cache')
    if (symbol === undefined) return false
  }
  const parts = (response as unknown as Record<symbol, unknown>)[symbol]
  if (!Array.isArray(parts) || parts.length !== 3 || typeof parts[0] !== 'number') return false
  lightResponseParts = symbol
  const headers: unknown = parts[2]
  if (headers instanceof Headers) {
    applyEffectsToHeaders(headers, effects)
    return true
  }
  if (headers === undefined || headers === null) {
    // What the server would send by default for this body, plus the session headers.
    const cacheControl = cacheControlFor(effects, undefined)
    const added: Record<string, string> =
      cacheControl === undefined
        ? { vary: 'Cookie' }
        : { vary: 'Cookie', 'cache-control': cacheControl }
    parts[2] = parts[1] === null ? added : { 'content-type': 'text/plain; charset=UTF-8', ...added }
    return true
  }
  if (typeof headers !== 'object' || Array.isArray(headers)) return false
  if (Object.getPrototypeOf(headers) !== Object.prototype) return false
  const record = headers as Record<string, unknown>
  // A copy with the headers set, built key by key (cheaper than a spread with a computed key).
  const copy: Record<string, unknown> = {}
  let varyKey: string | undefined
  let cacheKey: string | undefined
  for (const key in record) {
    if (key.length === 4 && key.toLowerCase() === 'vary') varyKey = key
    else if (key.length === 13 && key.toLowerCase() === 'cache-control') cacheKey = key
    copy[key] = record[key]
  }
  if (varyKey === undefined) {
    copy.vary = 'Cookie'
  } else {
    const current = record[varyKey]
    if (typeof current !== 'string') return false
    const next = addVaryCookie(current)
    if (next !== undefined) copy[varyKey] = next
  }
  const currentCache = cacheKey === undefined ? undefined : record[cacheKey]
  if (currentCache !== undefined && typeof currentCache !== 'string') return false
  const cacheControl = cacheControlFor(effects, currentCache)
  if (cacheControl !== undefined) copy[cacheKey ?? 'cache-control'] = cacheControl
  parts[2] = copy
  return true
}

/**
 * Returns `response` with the auth effects applied, copying it first when its headers are
 * immutable (a `Response` from `fetch()` or `Response.redirect()`).
 */
export function applyEffectsToResponse(response: Response, effects: ResponseEffects): Response {
  if (
    effects.cookies.length === 0 &&
    !effects.noStore &&
    effects.vary &&
    addSessionHeadersToLightResponse(response, effects)
  ) {
    return response
  }
  try {
    applyEffectsToHeaders(response.headers, effects)
    return response
  } catch {
    const copy = new Response(response.body, response)
    applyEffectsToHeaders(copy.headers, effects)
    return copy
  }
}

/**
 * Commits `auth` and returns `response` with its effects applied: synchronously when the handler
 * answered synchronously and no store write must be awaited, and a 503 instead when one failed.
 */
export function finishResponse(
  auth: { commit(status: number): ResponseEffects | null },
  response: Response | Promise<Response>,
): Response | Promise<Response> {
  if (response instanceof Promise) return response.then((r) => finishResponse(auth, r))
  const effects = auth.commit(response.status)
  if (effects === null) return response
  const updated = applyEffectsToResponse(response, effects)
  if (effects.pending === undefined) return updated
  return effects.pending.then((failure) => (failure ? outcomeToResponse(failure) : updated))
}

/** A Fetch `Response` for a guard outcome. */
export function outcomeToResponse(outcome: AuthOutcome): Response {
  if (outcome.type === 'redirect') {
    const location = encodeLocation(outcome.location)
    return new Response(`Redirecting to ${location}`, {
      status: outcome.status,
      headers: { location, 'content-type': 'text/plain; charset=utf-8' },
    })
  }
  const headers = new Headers(outcome.headers)
  let body: string | null = null
  if (typeof outcome.body === 'string') {
    body = outcome.body
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8')
  } else if (outcome.body !== undefined && outcome.body !== null) {
    body = JSON.stringify(outcome.body)
    if (!headers.has('content-type')) headers.set('content-type', 'application/json; charset=utf-8')
  }
  return new Response(body, { status: outcome.status, headers })
}
