import express from 'express'
import { LoginManager, type SessionStore } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import {
  checkPassword,
  escapeHtml,
  exampleSecret,
  loadUser,
  loginPage,
  type User,
} from './users.ts'

/** Flask-Login's README example on Express. */
export function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = new LoginManager<User>({
    secret,
    userLoader: loadUser,
    loginView: '/login',
    session: { store },
  })
  const login = expressLogin(manager)

  const app = express()
  // Flask's init_app: every request gets req.auth, created only when a handler reads it.
  login.install(app)

  app.get('/', (_req, res) => {
    res.type('html').send('<a href="/protected">Protected page</a> · <a href="/login">Log in</a>')
  })

  app.get('/login', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      // Loads a server-side session (SESSION_STORE=redis); a cookie session is already there.
      await auth.getSession()
      res.type('html').send(loginPage(auth.request.query('next'), auth.consumeFlashes()))
    } catch (error) {
      next(error)
    }
  })

  const form = express.urlencoded({ extended: false, limit: '10kb' })
  app.post('/login', form, async (req, res, next) => {
    try {
      const auth = login.auth(req)
      const user = checkPassword(req.body?.email, req.body?.password)
      if (user === null) {
        res.status(401).type('text').send('Bad login')
        return
      }
      await auth.loginUser(user, { remember: req.body?.remember === 'on' })
      res.redirect(303, auth.nextUrl('/protected'))
    } catch (error) {
      next(error)
    }
  })

  app.get(
    '/protected',
    login.loginRequired((req, res) => {
      res.type('html').send(`Logged in as: ${escapeHtml(req.auth.user.id)}`)
    }),
  )

  app.all('/logout', async (req, res, next) => {
    try {
      await login.auth(req).logoutUser()
      res.type('text').send('Logged out')
    } catch (error) {
      next(error)
    }
  })

  return app
}
