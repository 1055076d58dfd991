// The realistic app on Hono (bench/lib/app-spec.ts): ~20 routes, a body-size limit in front of the
// JSON bodies the write routes parse, JSON rendering and a static file (`serveStatic`). With
// BENCH_LOGIN=1, login-manager as the example adds it: the protected route wrapped by
// `login.loginRequired(handler)`.
import type { Server } from 'node:http'
import { join, relative } from 'node:path'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { APP_ROUTES, dashboard, routeAnswer, STATIC_DIR } from '../lib/app-spec.ts'
import { createBenchManager, type User } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, PORT } from './listen.ts'

const withLogin = process.env.BENCH_LOGIN === '1'

const app = new Hono<AuthEnv<User>>()
app.use('/static/*', serveStatic({ root: relative(process.cwd(), join(STATIC_DIR, '..')) }))
app.use(bodyLimit({ maxSize: 100 * 1024 }))

for (const { method, path } of APP_ROUTES) {
  app.on(method, path, async (c) => {
    const body = method === 'POST' || method === 'PUT' ? await c.req.json() : undefined
    return c.json(routeAnswer(path, c.req.param('id'), body))
  })
}
const page = (c: Context, userId: string) => c.json(dashboard(userId))
if (withLogin) {
  const login = honoLogin(createBenchManager(benchSecret()))
  app.get(
    '/protected',
    login.loginRequired((c) => page(c, c.var.auth.user.id)),
  )
} else {
  app.get('/protected', (c) => page(c, 'leafstorm'))
}

announce(serve({ fetch: app.fetch, port: PORT, hostname: HOST }) as Server)
