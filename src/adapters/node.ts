import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { AdapterRequest, Reply, RequestCycle, ResponseFinish } from '../adapter/index.ts'

/** What the response hooks need of a request's cycle. */
type Cycle = Pick<RequestCycle<object>, 'finish' | 'writesToStore'>
type Method = (this: ServerResponse, ...args: unknown[]) => ServerResponse

/** A Node-based framework's request: what every one of them has. */
interface NodeFrameworkRequest {
  readonly method?: string | undefined
  readonly headers: IncomingHttpHeaders
}

/** How one framework answers the facts that differ between Node frameworks. */
export interface NodeRequestReader<R> {
  url(req: R): string
  clientAddress(req: R): string | undefined
  origin(req: R): string
  caseSensitiveRouting(req: R): boolean
}

/**
 * The {@link AdapterRequest} of a Node-based framework's request: headers are read from
 * `req.headers` (which Node has built before any handler runs), the rest as `reader` says.
 */
export class NodeAdapterRequest<R extends NodeFrameworkRequest> implements AdapterRequest {
  readonly raw: R
  readonly #reader: NodeRequestReader<R>
  constructor(req: R, reader: NodeRequestReader<R>) {
    this.raw = req
    this.#reader = reader
  }
  get method() {
    return this.raw.method ?? 'GET'
  }
  header(name: string) {
    return nodeHeader(this.raw.headers, name)
  }
  get url() {
    return this.#reader.url(this.raw)
  }
  get clientAddress() {
    return this.#reader.clientAddress(this.raw)
  }
  get origin() {
    return this.#reader.origin(this.raw)
  }
  get caseSensitiveRouting() {
    return this.#reader.caseSensitiveRouting(this.raw)
  }
}

/** A request header of a Node request, as the core reads it (repeated values joined with `, `). */
export function nodeHeader(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Writes a reply on a Node response that has not sent its headers yet. */
export function writeReply(res: ServerResponse, reply: Reply, end?: Method): void {
  if (res.headersSent) return
  res.statusCode = reply.status
  for (const name in reply.headers) res.setHeader(name, reply.headers[name] as string)
  if (end === undefined) res.end(reply.body)
  else end.call(res, reply.body)
}

/**
 * Arranges for the cycle to finish this response: its `writeHead` is wrapped (on this response
 * only, the `on-headers` idiom) to add the cookies and cache headers right before the headers go
 * out, however the app ends the response. With a session store, its `end` is held until the
 * store has the request's writes; when one failed and nothing has been sent, the response is
 * replaced by the cycle's reply.
 */
export function finishOnHeaders(res: ServerResponse, cycle: Cycle): void {
  let writes: Promise<Reply | null> | undefined
  const writeHead = res.writeHead as Method
  res.writeHead = function writeHeadFinished(this: ServerResponse, ...args: unknown[]) {
    const finish = finishNow(this, cycle, args)
    if (finish?.writes !== undefined) writes = finish.writes
    return writeHead.apply(this, args)
  } as ServerResponse['writeHead']
  if (!cycle.writesToStore) return
  const end = res.end as Method
  res.end = function endAfterWrites(this: ServerResponse, ...args: unknown[]) {
    if (!this.headersSent) writes = finishNow(this, cycle, [])?.writes
    if (writes === undefined) return end.apply(this, args)
    writes.then((reply) => {
      if (reply === null || this.headersSent) {
        end.apply(this, args)
        return
      }
      for (const name of this.getHeaderNames()) this.removeHeader(name)
      writeReply(this, reply, end)
    })
    return this
  } as ServerResponse['end']
}

/** Applies the cycle's finish to `res`, before the `writeHead(...args)` call it precedes. */
function finishNow(res: ServerResponse, cycle: Cycle, args: unknown[]): ResponseFinish | null {
  moveWriteHeadHeaders(res, args)
  const vary = res.getHeader('vary')
  const cacheControl = res.getHeader('cache-control')
  const finish = cycle.finish(typeof args[0] === 'number' ? args[0] : res.statusCode, {
    vary: vary === undefined ? undefined : String(vary),
    cacheControl: cacheControl === undefined ? undefined : String(cacheControl),
  })
  if (finish === null) return null
  if (finish.setCookie.length > 0) {
    const previous = res.getHeader('set-cookie')
    res.setHeader(
      'set-cookie',
      previous === undefined
        ? finish.setCookie
        : [...(Array.isArray(previous) ? previous : [String(previous)]), ...finish.setCookie],
    )
  }
  if (finish.vary !== undefined) res.setHeader('vary', finish.vary)
  if (finish.cacheControl !== undefined) res.setHeader('cache-control', finish.cacheControl)
  return finish
}

/**
 * `writeHead(status, [message], headers)`: headers given there as an object are set on `res`
 * first (as Node would merge them), so that they can neither replace the cookies nor hide the
 * app's `Vary` from the cycle.
 */
function moveWriteHeadHeaders(res: ServerResponse, args: unknown[]): void {
  const last = args.length - 1
  const headers = args[last]
  if (last < 1 || typeof headers !== 'object' || headers === null || Array.isArray(headers)) return
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) res.setHeader(name, value as string | number | readonly string[])
  }
  args.length = last
}
