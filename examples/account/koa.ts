import Koa, { type Context } from 'koa'
import type { GuardedAuth, SessionStore } from 'login-manager'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { accountRoutes, createManager, type Form, type Reply } from './routes.ts'
import type { Account } from './users.ts'

async function readForm(ctx: Context): Promise<Form> {
  if (ctx.method !== 'POST') return {}
  let body = ''
  for await (const chunk of ctx.req) {
    body += chunk
    if (body.length > 10_240) break
  }
  return Object.fromEntries(new URLSearchParams(body))
}

function send(ctx: Context, reply: Reply): void {
  if ('redirect' in reply) {
    ctx.status = 303
    ctx.redirect(reply.redirect)
  } else {
    ctx.status = reply.status ?? 200
    ctx.type = 'html'
    ctx.body = reply.html
  }
}

/** The account example on Koa (routing by hand: the example needs no router package). */
export function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = createManager(secret, store)
  const login = koaLogin(manager)
  const guards = { login: login.loginRequired(), fresh: login.freshLoginRequired() }
  const routes = accountRoutes(manager)

  const app = new Koa<AuthState<Account>>()
  app.use(login.middleware)
  app.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/style.css') {
      ctx.type = 'text/css'
      ctx.body = stylesheet
      return
    }
    const route = routes.find((r) => r.method === ctx.method && r.path === ctx.path)
    if (route === undefined) return next()
    const form = await readForm(ctx)
    if (route.guard === undefined) return send(ctx, await route.run(ctx.state.auth, form))
    // Behind the guard, ctx.state.auth is the guarded auth object (user is an Account).
    await guards[route.guard](ctx as never, async () => {
      send(ctx, await route.run(ctx.state.auth as GuardedAuth<Account>, form))
    })
  })
  return app
}
