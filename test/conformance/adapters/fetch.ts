import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Http2Bindings, type HttpBindings, serve } from '@hono/node-server'
import { isAuthOutcome, type RequestAuth } from 'login-manager'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import {
  type AdapterHarness,
  type AnyId,
  type AppSpec,
  type RouteContext,
  type RouteDef,
  type RouteResult,
  STREAM_PAUSE,
  streamedResult,
} from '../harness.ts'

/** Statuses whose response must have a null body (the Response constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

type Endpoint = (request: Request, context?: FetchRequestContext) => Response | Promise<Response>

/** `request.text()` of an urlencoded body, first value per key; `{}` for any other body. */
async function formOf(request: Request): Promise<Record<string, string>> {
  const form: Record<string, string> = {}
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return form
  for (const [key, value] of new URLSearchParams(await request.text())) {
    if (!Object.hasOwn(form, key)) form[key] = value
  }
  return form
}

function textResponse(body: string, status = 200, extra?: Record<string, string>): Response {
  const headers = new Headers(extra)
  if (NULL_BODY.has(status)) return new Response(null, { status, headers })
  if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8')
  return new Response(body, { status, headers })
}

/** A `Response` whose body sends its two halves with a pause between them. */
function streamResponse(result: RouteResult, extra?: Headers): Response {
  const { status, headers, parts } = streamedResult(result)
  const [head, rest] = parts
  const all = new Headers(extra)
  for (const [name, value] of Object.entries(headers)) all.set(name, value)
  if (!all.has('content-type')) all.set('content-type', 'text/plain; charset=utf-8')
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(head))
      await sleep(STREAM_PAUSE)
      controller.enqueue(encoder.encode(rest))
      controller.close()
    },
  })
  return new Response(body, { status, headers: all })
}

/**
 * Serves conformance apps as one `(Request) => Response` function built with
 * `login-manager/fetch`, on Node through `@hono/node-server`. Routing is a lookup table: a Fetch
 * server has no router of its own. Headers are read from the `Request`.
 */
export const fetchHarness: AdapterHarness = makeFetchHarness('fetch', 'request')

/**
 * The same, with `@hono/node-server`'s `env` passed as the context (as `serve({ fetch: handler })`
 * does by itself): the client address comes from the Node request.
 */
export const fetchNodeHarness: AdapterHarness = makeFetchHarness('fetch-node', 'incoming')

function makeFetchHarness(name: string, source: 'request' | 'incoming'): AdapterHarness {
  return {
    name,
    earlyHeadersWrapResponse: true,
    async start<U extends object>(spec: AppSpec<U>) {
      // Created first: when the adapter refuses the manager, nothing is listening yet.
      const login = fetchLogin(spec.manager)

      const render = (result: RouteResult): Response => {
        if (typeof result === 'string') return textResponse(result)
        if (isAuthOutcome(result)) return login.render(result)
        return textResponse(result.body ?? '', result.status ?? 200, result.headers)
      }

      const endpoint = (route: RouteDef<U>): Endpoint => {
        const handler = async (request: Request, auth: RequestAuth<U, AnyId>) => {
          const url = new URL(request.url)
          const ctx: RouteContext<U> = {
            auth,
            query: (name) => url.searchParams.get(name),
            form: await formOf(request),
          }
          const result = await route.handler(ctx)
          return route.stream === true ? streamResponse(result) : render(result)
        }
        if (route.guard === 'login') return login.loginRequired(handler)
        if (route.guard === 'fresh') return login.freshLoginRequired(handler)
        return login.handle(handler)
      }

      const table = spec.routes.map((route) => ({
        method: route.method ?? 'GET',
        path: route.path,
        endpoint: endpoint(route),
      }))

      // A thrown handler error rejects the returned promise: @hono/node-server answers it with its
      // default 500 (no body, nothing logged).
      const fetch = (
        request: Request,
        env: HttpBindings | Http2Bindings,
      ): Response | Promise<Response> => {
        const { pathname } = new URL(request.url)
        // As in every router of the suite, a GET route also answers HEAD.
        const method = request.method === 'HEAD' ? 'GET' : request.method
        const match = table.find(
          (r) => r.path === pathname && (r.method === 'ALL' || r.method === method),
        )
        if (match === undefined) return Promise.resolve(textResponse('Not Found', 404))
        return source === 'incoming'
          ? match.endpoint(request, env as FetchRequestContext)
          : match.endpoint(request, { clientAddress: env.incoming.socket.remoteAddress })
      }

      const early = spec.earlyHeaders
      const withEarly =
        early === undefined
          ? fetch
          : async (request: Request, env: HttpBindings | Http2Bindings): Promise<Response> => {
              const response = await fetch(request, env)
              for (const [name, value] of Object.entries(early)) response.headers.set(name, value)
              return response
            }

      // serve() creates a node:http server (no createServer/http2 option given).
      const server = serve({ fetch: withEarly, port: 0, hostname: '127.0.0.1' }) as Server
      await once(server, 'listening')
      const { port } = server.address() as AddressInfo
      return {
        baseUrl: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((resolve, reject) => {
            server.close((error) => (error ? reject(error) : resolve()))
            server.closeAllConnections()
          }),
      }
    },
  }
}
