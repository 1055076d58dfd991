// login.install(app) with a session store: guards load the session for their handler; other
// handlers load it (or take login.middleware) before they read it.
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
  login.install(app)

  // 1. A guard loads the session (and the user) before the handler runs.
  app.get(
    '/inbox',
    login.loginRequired((req, res) => {
      res.json({ user: req.auth.user.id, flashes: req.auth.consumeFlashes() })
    }),
  )

  // 2. No guard: loginUser and logoutUser load the session by themselves...
  app.post('/login/:id', async (req, res, next) => {
    try {
      const user = users.get(req.params.id)
      if (user === undefined) {
        res.sendStatus(404)
        return
      }
      const auth = login.auth(req)
      await auth.loginUser(user)
      auth.flash(`Welcome, ${user.id}`) // synchronous, fine: loginUser loaded the session
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  // ...the synchronous reads (flashes, session.get) come after getSession(),
  app.get('/notices', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      await auth.getSession() // a store session loads here; a cookie session is already there
      res.json(auth.consumeFlashes())
    } catch (error) {
      next(error)
    }
  })

  // ...or behind login.middleware on the route, which loads the session first.
  app.get('/login', login.middleware, (req, res) => {
    res.json(login.auth(req).consumeFlashes())
  })

  // 3. A sub-app mounted on this app inherits its req.auth. (An app served or tested on its own
  // needs its own login.install.)
  const api = express()
  api.get('/me', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      await auth.getSession()
      const user = await auth.getUser()
      res.json({ id: user?.id ?? null })
    } catch (error) {
      next(error)
    }
  })
  app.use('/api', api)

  return app
}
