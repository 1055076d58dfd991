// Replacing the redirect, computing login views per request, and keeping `next` in the session.
import express from 'express'
import { LoginManager, redirect, respond, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

// Route names to paths: Flask's url_for, for views given as endpoint names.
const routes: Record<string, string> = {
  'auth.login': '/auth/login',
  'auth.refresh': '/auth/again',
}

export function createApp(users: Map<string, User>) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    resolveEndpoint: (name) => {
      const path = routes[name]
      if (path === undefined) throw new Error(`no route named ${name}`)
      return path
    },
    // A function of the request: a path, a URL or an endpoint name; null means 401.
    loginView: (request) => (request.path.startsWith('/shop/') ? '/shop/sign-in' : 'auth.login'),
    refreshView: 'auth.refresh',
    useSessionForNext: true, // the return URL goes in the session, not in ?next=
    forceHostForRedirects: 'www.example.com', // login URLs always name this host
    localize: (message) =>
      message.startsWith('Please log in') ? 'Bitte melden Sie sich an.' : message,
    // Replaces the flash-and-redirect; return redirect(…) or respond(…).
    onNeedsRefresh: (auth) =>
      auth.request.header('accept')?.includes('text/html') === true
        ? redirect('/auth/again', 303)
        : respond(401, { error: 'fresh login required' }, { 'WWW-Authenticate': 'Password' }),
  })
  manager.on('userUnauthorized', ({ auth }) => console.log(`anonymous ${auth.request.path}`))

  const login = expressLogin(manager)
  const app = express()
  app.use(login.middleware)
  app.get(
    '/shop/basket',
    login.loginRequired((req, res) => {
      res.send(`Basket of ${req.auth.user.id}`)
    }),
  )
  app.get(
    '/settings',
    login.freshLoginRequired((req, res) => {
      res.send(`Settings of ${req.auth.user.id}`)
    }),
  )
  return app
}
