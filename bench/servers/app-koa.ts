// The realistic app on Koa (bench/lib/app-spec.ts): ~20 routes in a small method-and-path router
// (no router package is installed), a JSON and form body parser, JSON rendering and a static file
// streamed from disk. With BENCH_LOGIN=1, login-manager as the example adds it:
// `app.use(login.middleware)` and the `login.loginRequired()` guard on the protected route.
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import Koa, { type Context } from 'koa'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { APP_ROUTES, dashboard, routeAnswer, STATIC_DIR, STATIC_PATH } from '../lib/app-spec.ts'
import { createBenchManager, type User } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, PORT } from './listen.ts'

const withLogin = process.env.BENCH_LOGIN === '1'
const login = withLogin ? koaLogin(createBenchManager(benchSecret())) : null
const requireLogin = login?.loginRequired()

type Handler = (ctx: Context, id: string | undefined) => Promise<void> | void
interface Route {
  readonly method: string
  readonly pattern: RegExp
  readonly handler: Handler
}

const routes: Route[] = APP_ROUTES.map(({ method, path }) => ({
  method,
  pattern: new RegExp(`^${path.replace(':id', '([^/]+)')}$`),
  handler: (ctx: Context, id: string | undefined) => {
    ctx.body = routeAnswer(path, id, (ctx.request as { body?: unknown }).body)
  },
}))
routes.push({
  method: 'GET',
  pattern: /^\/protected$/,
  handler:
    requireLogin === undefined
      ? (ctx) => {
          ctx.body = dashboard('leafstorm')
        }
      : (ctx) =>
          requireLogin(ctx as never, async () => {
            const state = ctx.state as AuthState<User>
            ctx.body = dashboard((await state.auth.getUser())?.id ?? '')
          }),
})

async function readBody(ctx: Context): Promise<unknown> {
  let body = ''
  for await (const chunk of ctx.req) {
    body += chunk
    if (body.length > 100 * 1024) ctx.throw(413)
  }
  if (ctx.is('application/json')) return JSON.parse(body)
  return Object.fromEntries(new URLSearchParams(body))
}

const app = new Koa()
app.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || ctx.path !== STATIC_PATH) return next()
  ctx.type = 'text/css; charset=utf-8'
  ctx.body = createReadStream(join(STATIC_DIR, 'app.css'))
})
app.use(async (ctx, next) => {
  if (ctx.is('application/json', 'application/x-www-form-urlencoded')) {
    ;(ctx.request as { body?: unknown }).body = await readBody(ctx)
  }
  await next()
})
if (login !== null) app.use(login.middleware)
app.use(async (ctx, next) => {
  for (const route of routes) {
    if (route.method !== ctx.method) continue
    const match = route.pattern.exec(ctx.path)
    if (match !== null) return route.handler(ctx, match[1])
  }
  return next()
})

announce(app.listen(PORT, HOST))
