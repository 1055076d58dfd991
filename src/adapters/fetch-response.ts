// What the Fetch and Hono adapters share: reading a Fetch `Request` for the core, and writing the
// core's answers into Fetch `Response`s. Nothing here imports a Node module, so both adapters stay
// loadable on Bun, Deno and edge runtimes.
import type {
  AdapterRequest,
  Reply,
  RequestCycle,
  ResponseFinish,
  UserId,
} from '../adapter/index.ts'

/** A response, without a promise when nothing needed one. */
export type MaybeResponse = Response | Promise<Response>

/** Where the path starts in an absolute URL string (`https://host/path` → index of `/path`). */
function pathStart(url: string): number {
  const scheme = url.indexOf('://')
  const slash = url.indexOf('/', scheme === -1 ? 0 : scheme + 3)
  return slash === -1 ? url.length : slash
}

/** A Node request's parsed headers (`IncomingMessage.headers`), as a server on Node passes them. */
export type NodeHeaders = Readonly<Record<string, string | string[] | undefined>>

/**
 * The Node request's headers, when the server passed the Node request behind the `Request`
 * (`@hono/node-server`'s documented `{ incoming }` bindings); otherwise `undefined`.
 */
export function incomingHeaders(bindings: unknown): NodeHeaders | undefined {
  const headers = (bindings as { incoming?: { headers?: unknown } } | null | undefined)?.incoming
    ?.headers
  return typeof headers === 'object' && headers !== null ? (headers as NodeHeaders) : undefined
}

/**
 * The core's view of a Fetch `Request`. The URL is sliced, not parsed: a request costs no `URL`
 * object unless something asks for one. Headers are read from the Node request's parsed headers
 * when the server passed them: on Node, a `Request`'s `headers` is a `Headers` object that
 * `@hono/node-server` builds from the Node request on first access, while the Node request's own
 * are already there; both hold the same header lines.
 */
export class FetchRequest implements AdapterRequest {
  readonly #request: Request
  readonly #nodeHeaders: NodeHeaders | undefined
  readonly clientAddress: string | undefined
  readonly raw: unknown
  constructor(
    request: Request,
    clientAddress: string | undefined,
    raw: unknown,
    nodeHeaders: NodeHeaders | undefined,
  ) {
    this.#request = request
    this.#nodeHeaders = nodeHeaders
    this.clientAddress = clientAddress
    this.raw = raw
  }
  get method(): string {
    return this.#request.method
  }
  get url(): string {
    const url = this.#request.url
    const start = pathStart(url)
    return start === url.length ? '/' : url.slice(start)
  }
  header(name: string): string | undefined {
    const node = this.#nodeHeaders
    if (node === undefined) return this.#request.headers.get(name) ?? undefined
    const value = node[name]
    return Array.isArray(value) ? value.join(', ') : value
  }
  get origin(): string {
    const url = this.#request.url
    return url.slice(0, pathStart(url))
  }
}

/** A {@link Reply} as a `Response` (a null body where the status allows none, such as 204). */
export function replyResponse(reply: Reply, init?: ResponseInit): Response {
  return new Response(reply.body === '' ? null : reply.body, {
    ...init,
    status: reply.status,
    headers: init?.headers ?? reply.headers,
  })
}

/** Sets `finish`'s headers on `headers`. */
function applyHeaders(headers: Headers, finish: ResponseFinish): void {
  for (const cookie of finish.setCookie) headers.append('set-cookie', cookie)
  if (finish.vary !== undefined) headers.set('vary', finish.vary)
  if (finish.cacheControl !== undefined) headers.set('cache-control', finish.cacheControl)
}

/**
 * `response` with `finish`'s headers: in place, or on a copy when its headers are immutable (a
 * `Response` from `fetch()` or `Response.redirect()`, whose headers throw on any change).
 */
export function withFinish(response: Response, finish: ResponseFinish): Response {
  if (
    finish.setCookie.length === 0 &&
    finish.vary === undefined &&
    finish.cacheControl === undefined
  )
    return response
  try {
    applyHeaders(response.headers, finish)
    return response
  } catch {
    const copy = new Response(response.body, response)
    applyHeaders(copy.headers, finish)
    return copy
  }
}

/** The reply that replaces `response`: its body (a stream, say) is dropped, never read. */
export function replacement(response: Response, reply: Reply): Response {
  response.body?.cancel().catch(() => {})
  return replyResponse(reply)
}

/**
 * Finishes `cycle` on the app's `response`: its cookies and cache headers applied, after the
 * store writes, or the reply that replaces it when one failed. Synchronous when the handler
 * answered synchronously and there is nothing to wait for.
 */
export function finishResponse<User extends object, Id extends UserId>(
  cycle: RequestCycle<User, Id>,
  response: MaybeResponse,
): MaybeResponse {
  if (response instanceof Promise) return response.then((r) => finishResponse(cycle, r))
  const headers = response.headers
  const finish = cycle.finish(response.status, {
    vary: headers.get('vary') ?? undefined,
    cacheControl: headers.get('cache-control') ?? undefined,
  })
  if (finish === null) return response
  const finished = withFinish(response, finish)
  if (finish.writes === undefined) return finished
  return finish.writes.then((failed) =>
    failed === null ? finished : replacement(finished, failed),
  )
}
