// The realistic app as a Fetch handler on @hono/node-server (bench/lib/app-spec.ts): ~20 routes in
// a small method-and-path router, JSON and form bodies parsed, JSON rendering and a static file.
// With BENCH_LOGIN=1, login-manager as the example adds it: the protected route as
// `login.loginRequired(handler)`.
import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import { APP_ROUTES, dashboard, routeAnswer, STATIC_DIR, STATIC_PATH } from '../lib/app-spec.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, PORT } from './listen.ts'

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  })

async function readBody(request: Request): Promise<unknown> {
  const type = request.headers.get('content-type') ?? ''
  if (type.startsWith('application/json')) return request.json()
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(await request.text()))
  }
  return undefined
}

type Handler = (
  request: Request,
  context: FetchRequestContext | undefined,
  id: string | undefined,
) => Response | Promise<Response>
interface Route {
  readonly method: string
  readonly pattern: RegExp
  readonly handler: Handler
}

const routes: Route[] = APP_ROUTES.map(({ method, path }) => ({
  method,
  pattern: new RegExp(`^${path.replace(':id', '([^/]+)')}$`),
  handler: async (request: Request, _context: unknown, id: string | undefined) =>
    json(routeAnswer(path, id, await readBody(request))),
}))
if (process.env.BENCH_LOGIN === '1') {
  const login = fetchLogin(createBenchManager(benchSecret()))
  const page = login.loginRequired((_req, auth) => json(dashboard(auth.user.id)))
  routes.push({ method: 'GET', pattern: /^\/protected$/, handler: page })
} else {
  routes.push({
    method: 'GET',
    pattern: /^\/protected$/,
    handler: () => json(dashboard('leafstorm')),
  })
}

const css = await readFile(join(STATIC_DIR, 'app.css'))

const handler = (request: Request, context?: FetchRequestContext): Response | Promise<Response> => {
  const path = new URL(request.url).pathname
  if (request.method === 'GET' && path === STATIC_PATH) {
    return new Response(css, { headers: { 'content-type': 'text/css; charset=utf-8' } })
  }
  for (const route of routes) {
    if (route.method !== request.method) continue
    const match = route.pattern.exec(path)
    if (match !== null) return route.handler(request, context, match[1])
  }
  return json({ error: 'Not Found' }, 404)
}

announce(serve({ fetch: handler, port: PORT, hostname: HOST }) as Server)
