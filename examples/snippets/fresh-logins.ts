// Fresh logins: sensitive pages ask for the password again after a remember-me restore.
import express from 'express'
import { LoginManager, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    public email: string,
    readonly password: string, // a real app keeps a hash (scrypt, argon2)
  ) {
    super()
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

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

  // The form and its action share a URL, and both need a fresh login. A stale login is sent
  // to /reauthenticate?next=/account/email; after the password it comes back here with a GET,
  // to the form (a redirect cannot repeat a POST).
  app.get(
    '/account/email',
    login.freshLoginRequired((req, res) => {
      res.type('html').send(`<form method="POST" action="/account/email">
  <label>New e-mail <input name="email" type="email" value="${escapeHtml(req.auth.user.email)}"></label>
  <button>Change e-mail</button>
</form>`)
    }),
  )

  app.post(
    '/account/email',
    login.freshLoginRequired((req, res) => {
      req.auth.user.email = String(req.body?.email) // your database update
      res.send(`E-mail of ${req.auth.user.id} changed`)
    }),
  )

  // The re-authentication page: a password form for the user who is already logged in.
  app.get(
    '/reauthenticate',
    login.loginRequired((req, res) => {
      const next = req.auth.request.query('next')
      const action =
        next === null ? '/reauthenticate' : `/reauthenticate?next=${encodeURIComponent(next)}`
      const flashes = req.auth.consumeFlashes().map((f) => `<p>${escapeHtml(f.message)}</p>`)
      res.type('html').send(`${flashes.join('')}
<form method="POST" action="${escapeHtml(action)}">
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Continue</button>
</form>`)
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
      res.redirect(303, req.auth.nextUrl('/account')) // a GET of the page that asked
    }),
  )

  return app
}
