import Koa from 'koa'
import { LoginManager, type SessionStore } from 'login-manager'
import { type AuthState, koaLogin } from 'login-manager/koa'
import {
  checkPassword,
  escapeHtml,
  exampleSecret,
  loadUser,
  loginPage,
  type User,
} from './users.ts'

async function readForm(req: NodeJS.ReadableStream): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 10_240) break
  }
  return new URLSearchParams(body)
}

/** Flask-Login's README example on Koa (routing by hand: the example needs no router package). */
export function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = new LoginManager<User>({
    secret,
    userLoader: loadUser,
    loginView: '/login',
    session: { store },
  })
  const login = koaLogin(manager)
  const requireLogin = login.loginRequired()

  const app = new Koa<AuthState<User>>()
  app.use(login.middleware)
  app.use(async (ctx, next) => {
    const { auth } = ctx.state
    if (ctx.path === '/' && ctx.method === 'GET') {
      ctx.type = 'html'
      ctx.body = '<a href="/protected">Protected page</a> · <a href="/login">Log in</a>'
    } else if (ctx.path === '/login' && ctx.method === 'GET') {
      ctx.type = 'html'
      ctx.body = loginPage(auth.request.query('next'), auth.consumeFlashes())
    } else if (ctx.path === '/login' && ctx.method === 'POST') {
      const form = await readForm(ctx.req)
      const user = checkPassword(form.get('email'), form.get('password'))
      if (user === null) {
        ctx.status = 401
        ctx.body = 'Bad login'
        return
      }
      await auth.loginUser(user, { remember: form.get('remember') === 'on' })
      ctx.status = 303
      ctx.redirect(auth.nextUrl('/protected'))
    } else if (ctx.path === '/protected' && ctx.method === 'GET') {
      await requireLogin(ctx as never, async () => {
        ctx.type = 'html'
        ctx.body = `Logged in as: ${escapeHtml((await auth.getUser())?.id ?? '')}`
      })
    } else if (ctx.path === '/logout') {
      await auth.logoutUser()
      ctx.body = 'Logged out'
    } else {
      await next()
    }
  })
  return app
}
