// Session protection behind a reverse proxy.
import express from 'express'
import { LoginManager, type UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export function createApp(loadUser: (id: string) => UserMixin | null) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<UserMixin>({
    secret,
    userLoader: loadUser,
    loginView: '/login',
    // 'basic' (default): a session seen from another client is kept but no longer fresh.
    // 'strong': the login is dropped and the remember-me cookie deleted.
    sessionProtection: 'strong',
  })
  manager.on('sessionProtected', ({ auth, mode }) => {
    console.warn(`session protection (${mode}) tripped for ${auth.request.clientAddress}`)
  })

  const login = expressLogin(manager)
  const app = express()
  // Exactly one proxy (nginx, a load balancer) sits in front of the app: Express then takes the
  // client address from the last X-Forwarded-For entry that proxy added, and req.ip is what
  // login-manager hashes. Without this line it hashes the proxy's address.
  app.set('trust proxy', 1)
  app.use(login.middleware)

  app.get(
    '/',
    login.loginRequired((req, res) => {
      res.send(`Hello ${req.ip}, your session is bound to this address and browser`)
    }),
  )
  return app
}
