import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import express, { type Request, type RequestHandler, type Response } from 'express'
import { isAuthOutcome } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import {
  type AdapterHarness,
  type AppSpec,
  type RouteContext,
  type RouteDef,
  type RouteResult,
  STREAM_PAUSE,
  streamedResult,
} from '../harness.ts'

/** The first string value of a parsed query or body field. */
function first(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
  return null
}

function formOf(req: Request): Record<string, string> {
  const form: Record<string, string> = {}
  const body: unknown = req.body
  if (typeof body !== 'object' || body === null) return form
  for (const [key, value] of Object.entries(body)) {
    const v = first(value)
    if (v !== null) form[key] = v
  }
  return form
}

/** Serves conformance apps with Express 5 and `login-manager/express`. */
export const expressHarness: AdapterHarness = makeExpressHarness('express', express)

/**
 * Express 5 without an app-wide middleware: guards wrapping the handlers, and `login.middleware`
 * on each unguarded route, the layout with no login-manager layer in front of guarded routes.
 */
export const expressRoutesHarness: AdapterHarness = makeExpressHarness(
  'express-routes',
  express,
  'routes',
)

/**
 * A harness over one Express module: the same app for every major version, since
 * `login-manager/express` must accept Express 4 and 5 unchanged. `style` picks how the app wires
 * login-manager in: `app.use(login.middleware)` and guard middleware, or guards wrapping the
 * handlers and the middleware on each unguarded route.
 */
export function makeExpressHarness(
  name: string,
  express: typeof import('express'),
  style: 'middleware' | 'routes' = 'middleware',
): AdapterHarness {
  return {
    name,
    streamSendsHeadersFirst: true,
    async start<U extends object>(spec: AppSpec<U>) {
      // Created first: when the adapter refuses the manager, nothing is listening yet.
      const login = expressLogin(spec.manager)

      const app = express()
      // 'test' keeps Express's final handler from printing the stack of expected 500s.
      app.set('env', 'test')
      app.disable('x-powered-by')
      const early = spec.earlyHeaders
      if (early !== undefined) {
        app.use((_req, res, next) => {
          for (const [name, value] of Object.entries(early)) res.setHeader(name, value)
          next()
        })
      }
      app.use(express.urlencoded({ extended: false }))
      if (style === 'middleware') app.use(login.middleware)

      const render = (res: Response, result: RouteResult): void => {
        if (typeof result === 'string') {
          res.type('text/plain').send(result)
        } else if (isAuthOutcome(result)) {
          login.send(res, result)
        } else {
          res.status(result.status ?? 200)
          for (const [name, value] of Object.entries(result.headers ?? {}))
            res.setHeader(name, value)
          if (!res.hasHeader('content-type')) res.type('text/plain')
          res.send(result.body ?? '')
        }
      }

      // res.write() sends the headers with the first chunk, before the handler is done.
      const stream = async (res: Response, result: RouteResult): Promise<void> => {
        const { status, headers, parts } = streamedResult(result)
        res.status(status)
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
        if (!res.hasHeader('content-type')) res.type('text/plain')
        const [head, rest] = parts
        res.write(head)
        await sleep(STREAM_PAUSE)
        res.end(rest)
      }

      const wrap =
        (route: RouteDef<U>): RequestHandler =>
        async (req, res, next) => {
          try {
            const ctx: RouteContext<U> = {
              auth: login.auth(req),
              query: (name) => first((req.query as Record<string, unknown>)[name]),
              form: formOf(req),
            }
            const result = await route.handler(ctx)
            if (route.stream === true) await stream(res, result)
            else render(res, result)
          } catch (error) {
            next(error)
          }
        }

      for (const route of spec.routes) {
        const handlers: RequestHandler[] = []
        const handler = wrap(route)
        if (style === 'routes') {
          if (route.guard === 'login') handlers.push(login.loginRequired(handler))
          else if (route.guard === 'fresh') handlers.push(login.freshLoginRequired(handler))
          else handlers.push(login.middleware, handler)
        } else {
          if (route.guard === 'login') handlers.push(login.loginRequired())
          else if (route.guard === 'fresh') handlers.push(login.freshLoginRequired())
          handlers.push(handler)
        }
        switch (route.method ?? 'GET') {
          case 'GET':
            app.get(route.path, ...handlers)
            break
          case 'POST':
            app.post(route.path, ...handlers)
            break
          case 'OPTIONS':
            app.options(route.path, ...handlers)
            break
          case 'ALL':
            app.all(route.path, ...handlers)
            break
        }
      }

      const server = createServer(app)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
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
