import type { ResponseEffects } from '../core/auth.ts'
import type { AuthOutcome } from '../core/outcome.ts'
import type { RequestAdapter } from '../core/types.ts'
import { addVaryCookie } from './node.ts'

/** Where the path starts in an absolute URL string (`https://host/path` → index of `/path`). */
function pathStart(url: string): number {
  const scheme = url.indexOf('://')
  const slash = url.indexOf('/', scheme === -1 ? 0 : scheme + 3)
  return slash === -1 ? url.length : slash
}

/**
 * A {@link RequestAdapter} over a Fetch `Request` (Hono, Bun.serve, Deno.serve, Next.js route
 * handlers). The URL is sliced, not parsed, so a request costs no `URL` object unless asked.
 */
export class FetchRequestAdapter implements RequestAdapter {
  readonly #request: Request
  readonly #clientAddress: string | undefined
  readonly #raw: unknown
  constructor(request: Request, clientAddress: string | undefined, raw: unknown = request) {
    this.#request = request
    this.#clientAddress = clientAddress
    this.#raw = raw
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
    return this.#request.headers.get(name) ?? undefined
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
  if (effects.noStore) headers.set('cache-control', 'private, no-store')
}

/**
 * Returns `response` with the auth effects applied, copying it first when its headers are
 * immutable (a `Response` from `fetch()` or `Response.redirect()`).
 */
export function applyEffectsToResponse(response: Response, effects: ResponseEffects): Response {
  try {
    applyEffectsToHeaders(response.headers, effects)
    return response
  } catch {
    const copy = new Response(response.body, response)
    applyEffectsToHeaders(copy.headers, effects)
    return copy
  }
}

/** A Fetch `Response` for a guard outcome. */
export function outcomeToResponse(outcome: AuthOutcome): Response {
  if (outcome.type === 'redirect') {
    return new Response(`Redirecting to ${outcome.location}`, {
      status: outcome.status,
      headers: { location: outcome.location, 'content-type': 'text/plain; charset=utf-8' },
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
