import { Hono } from 'hono'
import { LoginManager, type SessionStore } from 'login-manager'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { BAD_LOGIN, homePage, loggedOutPage, loginPage, protectedPage } from './pages.ts'
import { checkPassword, loadUser, type User } from './users.ts'

/** Flask-Login's README example on Hono. */
export function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = new LoginManager<User>({
    secret,
    userLoader: loadUser,
    loginView: '/login',
    session: { store },
  })
  const login = honoLogin(manager)

  const app = new Hono<AuthEnv<User>>()
  // The pages that use the session without a guard; guarded routes need no middleware.
  app.use('/', login.middleware)
  app.use('/login', login.middleware)
  app.use('/logout', login.middleware)

  app.get('/style.css', (c) =>
    c.body(stylesheet, 200, { 'content-type': 'text/css; charset=utf-8' }),
  )

  app.get('/', async (c) => c.html(homePage(await c.var.auth.getUser())))

  app.get('/login', (c) =>
    c.html(
      loginPage({ next: c.var.auth.request.query('next'), flashes: c.var.auth.consumeFlashes() }),
    ),
  )

  app.post('/login', async (c) => {
    const form = await c.req.parseBody()
    const user = checkPassword(form.email, form.password)
    if (user === null) {
      const username = typeof form.email === 'string' ? form.email : ''
      const next = c.var.auth.request.query('next')
      return c.html(loginPage({ next, flashes: [], error: BAD_LOGIN, username }), 401)
    }
    await c.var.auth.loginUser(user, { remember: form.remember === 'on' })
    return c.redirect(c.var.auth.nextUrl('/protected'), 303)
  })

  app.get(
    '/protected',
    login.loginRequired((c) => c.html(protectedPage(c.var.auth.user))),
  )

  // Flask-Login's README logs out with a GET; the pages' "Log out" buttons POST here.
  app.all('/logout', async (c) => {
    await c.var.auth.logoutUser()
    return c.html(loggedOutPage())
  })

  return app
}
