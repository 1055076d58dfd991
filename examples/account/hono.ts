import { type Context, Hono } from 'hono'
import type { SessionStore } from 'login-manager'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { accountRoutes, createManager, type Form, type Reply } from './routes.ts'
import type { Account } from './users.ts'

function send(c: Context, reply: Reply): Response {
  return 'redirect' in reply
    ? c.redirect(reply.redirect, 303)
    : c.html(reply.html, (reply.status ?? 200) as 200)
}

async function formOf(c: Context): Promise<Form> {
  if (c.req.method !== 'POST') return {}
  const body = await c.req.parseBody()
  return Object.fromEntries(
    Object.entries(body).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : undefined,
    ]),
  )
}

/** The account example on Hono. */
export function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = createManager(secret, store)
  const login = honoLogin(manager)

  const app = new Hono<AuthEnv<Account>>()
  app.get('/style.css', (c) =>
    c.body(stylesheet, 200, { 'content-type': 'text/css; charset=utf-8' }),
  )

  for (const route of accountRoutes(manager)) {
    if (route.guard === undefined) {
      // Unguarded pages take the middleware, which creates c.var.auth (and loads a store session).
      app.on(route.method, route.path, login.middleware, async (c) =>
        send(c, await route.run(c.var.auth, await formOf(c))),
      )
    } else {
      const guard = route.guard === 'fresh' ? login.freshLoginRequired : login.loginRequired
      app.on(
        route.method,
        route.path,
        guard(async (c) => send(c, await route.run(c.var.auth, await formOf(c)))),
      )
    }
  }
  return app
}
