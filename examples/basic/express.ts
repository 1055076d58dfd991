import express from 'express'
import { LoginManager, type SessionStore } from 'login-manager'
import { expressLogin } from 'login-manager/express'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { BAD_LOGIN, homePage, loggedOutPage, loginPage, protectedPage } from './pages.ts'
import { checkPassword, loadUser, type User } from './users.ts'

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
  // Flask's init_app: every request gets req.auth (a store session is loaded first).
  app.use(login.middleware)

  app.get('/style.css', (_req, res) => {
    res.type('css').send(stylesheet)
  })

  app.get('/', async (req, res, next) => {
    try {
      res.type('html').send(homePage(await login.auth(req).getUser()))
    } catch (error) {
      next(error)
    }
  })

  app.get('/login', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      // Loads a server-side session (SESSION_STORE=redis); a cookie session is already there.
      await auth.getSession()
      const next = auth.request.query('next')
      res.type('html').send(loginPage({ next, flashes: auth.consumeFlashes() }))
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
        const username = typeof req.body?.email === 'string' ? req.body.email : ''
        const next = auth.request.query('next')
        res
          .status(401)
          .type('html')
          .send(loginPage({ next, flashes: [], error: BAD_LOGIN, username }))
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
      res.type('html').send(protectedPage(req.auth.user))
    }),
  )

  // Flask-Login's README logs out with a GET; the pages' "Log out" buttons POST here.
  app.all('/logout', async (req, res, next) => {
    try {
      await login.auth(req).logoutUser()
      res.type('html').send(loggedOutPage())
    } catch (error) {
      next(error)
    }
  })

  return app
}
