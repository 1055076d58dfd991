// Fresh logins: sensitive pages ask for the password again after a remember-me restore.
import express from 'express'
import { LoginManager, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly password: string, // a real app keeps a hash (scrypt, argon2)
  ) {
    super()
  }
}

export function createManager(users: Map<string, User>) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  return new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    loginView: '/login',
    refreshView: '/reauthenticate', // where freshLoginRequired sends non-fresh logins
    refreshMessage: 'Please enter your password again to continue.',
  })
}

export function createApp(manager: LoginManager<User>) {
  const login = expressLogin(manager)
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(login.middleware)

  // Any login, fresh or restored from a remember-me cookie.
  app.get(
    '/account',
    login.loginRequired(async (req, res) => {
      res.json({ id: req.auth.user.id, fresh: await req.auth.isFresh() })
    }),
  )

  // Only a login made with the password in this browser session.
  app.post(
    '/account/email',
    login.freshLoginRequired((req, res) => {
      res.send(`E-mail of ${req.auth.user.id} changed`)
    }),
  )

  app.post(
    '/reauthenticate',
    login.loginRequired(async (req, res) => {
      if (req.body?.password !== req.auth.user.password) {
        res.status(401).send('Wrong password')
        return
      }
      await req.auth.confirmLogin() // fresh again, bound to this client
      res.redirect(303, req.auth.nextUrl('/account'))
    }),
  )

  return app
}
