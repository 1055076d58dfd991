import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import Koa, { type Middleware, type ParameterizedContext } from 'koa'
import { isAuthOutcome } from 'login-manager'
import { type AuthState, koaLogin } from 'login-manager/koa'
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

type State<U extends object> = AuthState<U, AnyId>
type Ctx<U extends object> = ParameterizedContext<State<U>>

/** The first string value of a parsed query field. */
function first(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
  return null
}

/** Reads an urlencoded body from the request stream (first value per key); `{}` otherwise. */
async function formOf(ctx: Pick<Koa.Context, 'request' | 'req'>): Promise<Record<string, string>> {
  const form: Record<string, string> = {}
  if (!ctx.request.is('application/x-www-form-urlencoded')) return form
  const chunks: Buffer[] = []
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (!Object.hasOwn(form, key)) form[key] = value
  }
  return form
}

/**
 * Serves conformance apps with Koa 3 and `login-manager/koa`. koa-router is not a dependency, so
 * a tiny router matches method and exact path, and runs the adapter's guard middleware before the
 * handler (as `router.get(path, login.loginRequired(), handler)` would).
 */
export const koaHarness: AdapterHarness = {
  name: 'koa',
  streamSendsHeadersFirst: true,
  async start<U extends object>(spec: AppSpec<U>) {
    // Created first: when the adapter refuses the manager, nothing is listening yet.
    const login = koaLogin(spec.manager)

    const app = new Koa<State<U>>()
    // Koa's default error handling answers 500; `silent` keeps it from printing expected errors.
    app.silent = true
    const early = spec.earlyHeaders
    if (early !== undefined) {
      app.use(async (ctx, next) => {
        for (const [name, value] of Object.entries(early)) ctx.set(name, value)
        await next()
      })
    }
    app.use(login.middleware)

    const render = (ctx: Ctx<U>, result: RouteResult): void => {
      if (typeof result === 'string') {
        ctx.status = 200
        ctx.type = 'text/plain; charset=utf-8'
        ctx.body = result
      } else if (isAuthOutcome(result)) {
        // `send` takes Koa's unparameterized Context; the state type is irrelevant to it.
        login.send(ctx as unknown as Koa.Context, result)
      } else {
        ctx.status = result.status ?? 200
        for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value)
        if (!ctx.response.get('content-type')) ctx.type = 'text/plain; charset=utf-8'
        ctx.body = result.body ?? ''
      }
    }

    // ctx.flushHeaders() sends the headers before the body, which Koa then pipes from the stream.
    const stream = (ctx: Ctx<U>, result: RouteResult): void => {
      const { status, headers, parts } = streamedResult(result)
      const [head, rest] = parts
      ctx.status = status
      for (const [name, value] of Object.entries(headers)) ctx.set(name, value)
      if (!ctx.response.get('content-type')) ctx.type = 'text/plain; charset=utf-8'
      ctx.flushHeaders()
      ctx.body = Readable.from(
        (async function* () {
          yield head
          await sleep(STREAM_PAUSE)
          yield rest
        })(),
      )
    }

    const endpoint =
      (route: RouteDef<U>): Middleware<State<U>> =>
      async (ctx) => {
        const routeCtx: RouteContext<U> = {
          auth: ctx.state.auth,
          query: (name) => first(ctx.query[name]),
          form: await formOf(ctx),
        }
        const result = await route.handler(routeCtx)
        if (route.stream === true) stream(ctx, result)
        else render(ctx, result)
      }

    // The guards are typed for the state they produce (a GuardedAuth); they run on the state the
    // middleware put there (a RequestAuth), which is what they expect at runtime.
    const guardOf = (route: RouteDef<U>): Middleware<State<U>> | undefined => {
      if (route.guard === 'login') return login.loginRequired() as unknown as Middleware<State<U>>
      if (route.guard === 'fresh')
        return login.freshLoginRequired() as unknown as Middleware<State<U>>
      return undefined
    }

    const table = spec.routes.map((route) => {
      const guard = guardOf(route)
      const run = endpoint(route)
      const stack: Middleware<State<U>> =
        guard === undefined ? run : (ctx, next) => guard(ctx, () => run(ctx, next))
      return { method: route.method ?? 'GET', path: route.path, stack }
    })

    app.use(async (ctx, next) => {
      // As koa-router does, a GET route also answers HEAD.
      const method = ctx.method === 'HEAD' ? 'GET' : ctx.method
      const match = table.find(
        (r) => r.path === ctx.path && (r.method === 'ALL' || r.method === method),
      )
      // No match: Koa's default 404.
      if (match === undefined) return next()
      return match.stack(ctx, next)
    })

    const server = app.listen(0, '127.0.0.1')
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
