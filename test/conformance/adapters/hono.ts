import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { isAuthOutcome } from 'login-manager'
import { type AuthEnv, type GuardedHandler, honoLogin } from 'login-manager/hono'
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

/** `c.req.parseBody({ all: true })`, first string value per key (as the other harnesses do). */
async function formOf(c: Context): Promise<Record<string, string>> {
  const form: Record<string, string> = {}
  // parseBody only reads urlencoded and multipart bodies; any other request gives {}.
  const body = await c.req.parseBody({ all: true })
  for (const [key, value] of Object.entries(body)) {
    const v = Array.isArray(value) ? value[0] : value
    if (typeof v === 'string') form[key] = v
  }
  return form
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

/** Serves conformance apps with Hono on `@hono/node-server` and `login-manager/hono`. */
export const honoHarness: AdapterHarness = makeHonoHarness('hono', 'middleware')

/**
 * No global middleware: guarded routes are single handlers wrapped by `loginRequired(handler)`,
 * the others take `login.middleware` on the route.
 */
export const honoHandlerHarness: AdapterHarness = makeHonoHarness('hono-handler', 'handler')

function makeHonoHarness(name: string, style: 'middleware' | 'handler'): AdapterHarness {
  return {
    name,
    async start<U extends object>(spec: AppSpec<U>) {
      // Created first: when the adapter refuses the manager, nothing is listening yet.
      const login = honoLogin(spec.manager)

      const app = new Hono<AuthEnv<U, AnyId>>()
      // Hono's default error handler, minus its console.error of the (expected) error.
      app.onError((_error, c) => c.text('Internal Server Error', 500))
      const early = spec.earlyHeaders
      if (early !== undefined) {
        app.use(async (c, next) => {
          for (const [name, value] of Object.entries(early)) c.header(name, value)
          await next()
        })
      }
      if (style === 'middleware') app.use(login.middleware)

      const render = (c: Context, result: RouteResult): Response => {
        if (typeof result === 'string') return c.text(result)
        if (isAuthOutcome(result)) return login.render(result, c)
        const status = result.status ?? 200
        const headers = new Headers(result.headers)
        if (NULL_BODY.has(status)) return new Response(null, { status, headers })
        if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=UTF-8')
        return new Response(result.body ?? '', { status, headers })
      }

      const handler = (route: RouteDef<U>) => async (c: Context<AuthEnv<U, AnyId>>) => {
        const ctx: RouteContext<U> = {
          auth: c.var.auth,
          query: (name) => c.req.query(name) ?? null,
          form: await formOf(c),
        }
        const result = await route.handler(ctx)
        // Hono keeps headers set with c.header() only on the responses it builds itself.
        if (route.stream === true) {
          const streamed = streamResponse(result)
          return c.newResponse(streamed.body, streamed)
        }
        return render(c, result)
      }

      for (const route of spec.routes) {
        const method = route.method ?? 'GET'
        // app.on('GET', …) also answers HEAD; 'ALL' is Hono's own wildcard method.
        if (style === 'handler') {
          // Typed for any route here; an inline handler gets the guarded Context by inference.
          const guarded = handler(route) as unknown as GuardedHandler<U, AnyId>
          if (route.guard === 'login') app.on(method, route.path, login.loginRequired(guarded))
          else if (route.guard === 'fresh')
            app.on(method, route.path, login.freshLoginRequired(guarded))
          else app.on(method, route.path, login.middleware, handler(route))
        } else if (route.guard === 'login')
          app.on(method, route.path, login.loginRequired(), handler(route))
        else if (route.guard === 'fresh')
          app.on(method, route.path, login.freshLoginRequired(), handler(route))
        else app.on(method, route.path, handler(route))
      }

      // serve() creates a node:http server (no createServer/http2 option given).
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
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
