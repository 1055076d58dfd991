import { Hono } from 'hono'
import { LoginManager, type SessionStore } from 'login-manager'
import { type AuthEnv, honoLogin } from 'login-manager/hono'
import {
  checkPassword,
  escapeHtml,
  exampleSecret,
  loadUser,
  loginPage,
  type User,
} from './users.ts'

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
  app.use('/login', login.middleware)
  app.use('/logout', login.middleware)

  app.get('/', (c) =>
    c.html('<a href="/protected">Protected page</a> · <a href="/login">Log in</a>'),
  )

  app.get('/login', (c) =>
    c.html(loginPage(c.var.auth.request.query('next'), c.var.auth.consumeFlashes())),
  )

  app.post('/login', async (c) => {
    const form = await c.req.parseBody()
    const user = checkPassword(form.email, form.password)
    if (user === null) return c.text('Bad login', 401)
    await c.var.auth.loginUser(user, { remember: form.remember === 'on' })
    return c.redirect(c.var.auth.nextUrl('/protected'), 303)
  })

  app.get(
    '/protected',
    login.loginRequired((c) => c.html(`Logged in as: ${escapeHtml(c.var.auth.user.id)}`)),
  )

  app.all('/logout', async (c) => {
    await c.var.auth.logoutUser()
    return c.text('Logged out')
  })

  return app
}
