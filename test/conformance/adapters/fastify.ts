import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyReply, type HTTPMethods, type RouteOptions } from 'fastify'
import { isAuthOutcome } from 'login-manager'
import { fastifyLogin } from 'login-manager/fastify'
import {
  type AdapterHarness,
  type AppSpec,
  type RouteContext,
  type RouteDef,
  type RouteResult,
  STREAM_PAUSE,
  streamedResult,
} from '../harness.ts'

/** A body that yields its two halves with a pause between them. */
function pausedStream([head, rest]: [string, string]): Readable {
  return Readable.from(
    (async function* () {
      yield head
      await sleep(STREAM_PAUSE)
      yield rest
    })(),
  )
}

/** The first string value of a parsed query or body field. */
function first(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
  return null
}

function formOf(body: unknown): Record<string, string> {
  const form: Record<string, string> = {}
  if (typeof body !== 'object' || body === null) return form
  for (const [key, value] of Object.entries(body)) {
    const v = first(value)
    if (v !== null) form[key] = v
  }
  return form
}

/** What a RouteDef method registers. GET also answers HEAD (Fastify's `exposeHeadRoutes`). */
function methodsOf(method: RouteDef<object>['method']): HTTPMethods[] {
  switch (method ?? 'GET') {
    case 'GET':
      return ['GET']
    case 'POST':
      return ['POST']
    case 'OPTIONS':
      return ['OPTIONS']
    default:
      return ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
  }
}

/** Serves conformance apps with Fastify 5 and `login-manager/fastify`. */
export const fastifyHarness: AdapterHarness = {
  name: 'fastify',
  async start<U extends object>(spec: AppSpec<U>) {
    // Created first: when the adapter refuses the manager, nothing is listening yet.
    const login = fastifyLogin(spec.manager)

    // No logger (Fastify's default): the expected 500s print nothing.
    const app = Fastify()
    // Fastify parses only JSON and text out of the box; forms get the usual URLSearchParams parser.
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => {
        const form: Record<string, string> = {}
        for (const [key, value] of new URLSearchParams(String(body))) {
          if (!Object.hasOwn(form, key)) form[key] = value
        }
        done(null, form)
      },
    )
    const early = spec.earlyHeaders
    if (early !== undefined) {
      app.addHook('onRequest', (_req, reply, done) => {
        for (const [name, value] of Object.entries(early)) reply.header(name, value)
        done()
      })
    }
    await app.register(login.plugin)

    const render = (reply: FastifyReply, result: RouteResult): FastifyReply => {
      if (typeof result === 'string') return reply.type('text/plain; charset=utf-8').send(result)
      if (isAuthOutcome(result)) return login.send(reply, result)
      reply.code(result.status ?? 200)
      for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value)
      if (!reply.hasHeader('content-type')) reply.type('text/plain; charset=utf-8')
      return reply.send(result.body ?? '')
    }

    // A stream payload: Fastify sends the headers once the onSend hooks are done.
    const stream = (reply: FastifyReply, result: RouteResult): FastifyReply => {
      const { status, headers, parts } = streamedResult(result)
      reply.code(status)
      for (const [name, value] of Object.entries(headers)) reply.header(name, value)
      if (!reply.hasHeader('content-type')) reply.type('text/plain; charset=utf-8')
      return reply.send(pausedStream(parts))
    }

    for (const route of spec.routes) {
      const options: RouteOptions = {
        method: methodsOf(route.method),
        url: route.path,
        handler: async (req, reply) => {
          const ctx: RouteContext<U> = {
            auth: login.auth(req),
            query: (name) => first((req.query as Record<string, unknown>)[name]),
            form: formOf(req.body),
          }
          const result = await route.handler(ctx)
          return route.stream === true ? stream(reply, result) : render(reply, result)
        },
      }
      if (route.guard === 'login') options.preHandler = login.loginRequired()
      else if (route.guard === 'fresh') options.preHandler = login.freshLoginRequired()
      app.route(options)
    }

    try {
      await app.listen({ port: 0, host: '127.0.0.1' })
    } catch (error) {
      await app.close()
      throw error
    }
    const { port } = app.server.address() as AddressInfo
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      close: async () => {
        const closed = app.close()
        app.server.closeAllConnections()
        await closed
      },
    }
  },
}
