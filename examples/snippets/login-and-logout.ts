// Loading users: an async user loader, inactive accounts, and API keys through a request loader.
import { createHash } from 'node:crypto'
import express from 'express'
import { LoginManager, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class Account extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly disabled = false,
  ) {
    super()
  }
  // Inactive users cannot log in (unless forced) and are not authenticated.
  override get isActive() {
    return !this.disabled
  }
}

/** Your data layer: any async lookup works (SQL, an ORM, a remote service). */
export interface AccountStore {
  byId(id: string): Promise<Account | null>
  byApiKeyHash(hash: string): Promise<Account | null>
  checkPassword(name: string, password: string): Promise<Account | null>
}

export function createApp(store: AccountStore) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<Account>({
    secret,
    // Called at most once per request, and only when the request asks for the user.
    // Return null for an id you no longer know: the login is then removed from the session.
    userLoader: (id) => store.byId(id),
    // Used when the session and remember-me cookie have no user. Nothing is stored in the
    // session: the next request must send its key again.
    requestLoader: async (request) => {
      const header = request.header('authorization')
      if (header?.startsWith('Bearer ') !== true) return null
      const hash = createHash('sha256').update(header.slice(7)).digest('hex')
      return store.byApiKeyHash(hash)
    },
  })
  manager.on('userLoadedFromRequest', ({ user }) => console.log(`API call by ${user.id}`))

  const login = expressLogin(manager)
  const app = express()
  app.use(express.json({ limit: '10kb' }))
  app.use(login.middleware)

  app.post('/api/login', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      const account = await store.checkPassword(
        String(req.body?.name ?? ''),
        String(req.body?.password ?? ''),
      )
      if (account === null) {
        res.status(401).json({ error: 'bad credentials' })
        return
      }
      // false: the account is disabled (pass { force: true } to log it in anyway).
      if (!(await auth.loginUser(account))) {
        res.status(403).json({ error: 'account disabled' })
        return
      }
      res.json({ id: account.id, fresh: await auth.isFresh() })
    } catch (error) {
      next(error)
    }
  })

  app.get('/api/me', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      const user = await auth.getUser() // Account | null
      const current = await auth.currentUser() // Account, or the anonymous user object
      res.json({
        id: user?.id ?? null,
        anonymous: current.isAnonymous === true,
        authenticated: await auth.isAuthenticated(),
      })
    } catch (error) {
      next(error)
    }
  })

  app.get(
    '/api/profile',
    login.loginRequired((req, res) => {
      res.json({ name: req.auth.user.name }) // loaded by the guard, read synchronously
    }),
  )

  app.post('/api/logout', async (req, res, next) => {
    try {
      await login.auth(req).logoutUser()
      res.sendStatus(204)
    } catch (error) {
      next(error)
    }
  })

  return app
}
