import Koa from 'koa'
import { LoginManager, type SessionStore } from 'login-manager'
import { type AuthState, koaLogin } from 'login-manager/koa'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { BAD_LOGIN, homePage, loggedOutPage, loginPage, protectedPage } from './pages.ts'
import { checkPassword, loadUser, type User } from './users.ts'

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
    if (ctx.path === '/style.css' && ctx.method === 'GET') {
      ctx.type = 'text/css'
      ctx.body = stylesheet
    } else if (ctx.path === '/' && ctx.method === 'GET') {
      ctx.type = 'html'
      ctx.body = homePage(await auth.getUser())
    } else if (ctx.path === '/login' && ctx.method === 'GET') {
      ctx.type = 'html'
      ctx.body = loginPage({ next: auth.request.query('next'), flashes: auth.consumeFlashes() })
    } else if (ctx.path === '/login' && ctx.method === 'POST') {
      const form = await readForm(ctx.req)
      const user = checkPassword(form.get('email'), form.get('password'))
      if (user === null) {
        ctx.status = 401
        ctx.type = 'html'
        ctx.body = loginPage({
          next: auth.request.query('next'),
          flashes: [],
          error: BAD_LOGIN,
          username: form.get('email') ?? '',
        })
        return
      }
      await auth.loginUser(user, { remember: form.get('remember') === 'on' })
      ctx.status = 303
      ctx.redirect(auth.nextUrl('/protected'))
    } else if (ctx.path === '/protected' && ctx.method === 'GET') {
      await requireLogin(ctx as never, async () => {
        const user = await auth.getUser()
        if (user === null) return
        ctx.type = 'html'
        ctx.body = protectedPage(user)
      })
    } else if (ctx.path === '/logout') {
      // Flask-Login's README logs out with a GET; the pages' "Log out" buttons POST here.
      await auth.logoutUser()
      ctx.type = 'html'
      ctx.body = loggedOutPage()
    } else {
      await next()
    }
  })
  return app
}
