// The Express adapter: typed handlers without declaration merging, routers, errors, proxies.
import express, { type NextFunction, type Request, type Response } from 'express'
import { LoginManager, LoginManagerError, UserMixin } from 'login-manager'
import { type AuthRequest, expressLogin, type GuardedRequest } from 'login-manager/express'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
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
    loginView: '/login',
  })
  // Throws ERR_NO_USER_LOADER here, at start-up, when the manager has no loader.
  const login = expressLogin(manager)

  const app = express()
  app.set('trust proxy', 'loopback') // req.ip, req.protocol: see docs/session-protection.md
  // Flask's init_app: req.auth on every request of this app (a store session loaded first).
  app.use(login.middleware)

  // 1. login.auth(req): the typed auth object, in any handler.
  app.get('/', (req, res) => {
    const user = login.auth(req).user // synchronous: the loader above is synchronous
    res.send(user === null ? 'Hello, stranger' : `Hello, ${user.name}`)
  })

  // 2. Named handlers typed with AuthRequest / GuardedRequest.
  function dashboard(req: GuardedRequest<User>, res: Response) {
    res.send(`Dashboard of ${req.auth.user.name}`) // a User, never null
  }
  app.get('/dashboard', login.loginRequired(dashboard))

  async function status(req: Request, res: Response, next: NextFunction) {
    try {
      const auth = (req as AuthRequest<User>).auth // set by login.middleware
      res.json({ loggedIn: await auth.isAuthenticated() })
    } catch (error) {
      next(error) // Express 4 does not catch rejected promises itself; Express 5 does
    }
  }
  app.get('/status', status)

  // 3. The middleware form guards a whole router.
  const members = express.Router()
  members.use(login.freshLoginRequired())
  members.get('/billing', (req, res) => {
    res.send(`Billing for ${login.auth(req).user?.name}`)
  })
  app.use('/members', members)

  // 4. Configuration mistakes (an oversized session, a missing middleware) reach the error handler.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof LoginManagerError)) return next(error)
    console.error(error.code, error.message)
    res.status(500).send('Internal error')
  })
  return app
}
