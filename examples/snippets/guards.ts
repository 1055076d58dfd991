// Guards in both forms, login views per path prefix, and JSON clients.
import express from 'express'
import { LoginManager, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly admin = false,
  ) {
    super()
  }
}

export function createApp(users: Map<string, User>) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    loginView: '/login', // the app-wide login page
    loginViews: {
      '/admin': '/admin/login', // requests under /admin/ use the admin login page
      '/api': false, // requests under /api/ always get a 401, never a redirect
    },
    exemptMethods: ['OPTIONS'], // CORS preflights are never redirected (the default)
  })
  const login = expressLogin(manager)
  const app = express()
  app.use(login.middleware)

  // Wrapper form: the handler runs only for logged-in users, and req.auth.user is a User.
  app.get(
    '/profile',
    login.loginRequired((req, res) => {
      res.send(`Hello ${req.auth.user.id}`)
    }),
  )

  // Middleware form: guard a whole router; read the user through login.auth(req).
  const admin = express.Router()
  admin.use(login.loginRequired())
  admin.get('/users', (req, res) => {
    const user = login.auth(req).user // User | null in the type; a User at run time here
    if (user?.admin !== true) {
      res.sendStatus(403)
      return
    }
    res.json([...users.keys()])
  })
  app.use('/admin', admin)

  // Anonymous API calls get 401 (Accept: application/json gets {"error":"Unauthorized"}).
  app.get(
    '/api/me',
    login.loginRequired((req, res) => {
      res.json({ id: req.auth.user.id })
    }),
  )

  // Calling the checks yourself, then sending the outcome.
  app.get('/maybe', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      if ((await auth.getUser()) === null && req.query.strict === '1') {
        login.send(res, await auth.unauthorized()) // flash + redirect, or 401
        return
      }
      res.send('Public, with more for members')
    } catch (error) {
      next(error)
    }
  })

  return app
}
