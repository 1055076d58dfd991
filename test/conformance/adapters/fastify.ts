import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyReply, type HTTPMethods, type RouteOptions } from 'fastify'
import { isAuthOutcome } from 'login-manager'
import { fastifyLogin } from 'login-manager/fastify'
import type { AdapterHarness, AppSpec, RouteContext, RouteDef, RouteResult } from '../harness.ts'

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
          return render(reply, await route.handler(ctx))
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
