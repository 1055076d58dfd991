// Express with a session store: app.use(login.middleware) loads the request's session before the
// routes run, so every handler reads it synchronously; a route behind a guard needs nothing more.
import express from 'express'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

export function createApp(users: Map<string, User>, store?: SessionStore) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    loginView: '/login',
    session: { store }, // undefined: cookie sessions; the routes below work with both
  })
  const login = expressLogin(manager)

  const app = express()
  app.use(login.middleware)

  // 1. A guard lets the handler run only for a logged-in user.
  app.get(
    '/inbox',
    login.loginRequired((req, res) => {
      res.json({ user: req.auth.user.id, flashes: req.auth.consumeFlashes() })
    }),
  )

  // 2. No guard: the middleware loaded the session, so the auth object works synchronously.
  app.post('/login/:id', async (req, res, next) => {
    try {
      const user = users.get(req.params.id)
      if (user === undefined) {
        res.sendStatus(404)
        return
      }
      const auth = login.auth(req)
      await auth.loginUser(user)
      auth.flash(`Welcome, ${user.id}`)
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  app.get('/notices', (req, res) => {
    res.json(login.auth(req).consumeFlashes())
  })

  app.get('/login', (req, res) => {
    res.json(login.auth(req).consumeFlashes())
  })

  // 3. A sub-app mounted on this app sees the req.auth its parent's middleware gave the request.
  // (An app served or tested on its own needs its own app.use(login.middleware).)
  const api = express()
  api.get('/me', async (req, res, next) => {
    try {
      const user = await login.auth(req).getUser()
      res.json({ id: user?.id ?? null })
    } catch (error) {
      next(error)
    }
  })
  app.use('/api', api)

  return app
}
