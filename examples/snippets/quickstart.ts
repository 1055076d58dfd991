// app.ts: a complete Express app with login, remember-me, a protected page and logout.
// Run it: SESSION_SECRET=$(npx login-manager secret) npx tsx app.ts
import { timingSafeEqual } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import express from 'express'
import { LoginManager, UserMixin } from 'login-manager'
import { expressLogin } from 'login-manager/express'

export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

// Stands in for your user table. A real app stores a password hash (scrypt, argon2), never the
// password itself.
const passwords = new Map([['leafstorm', 'secret']])

function checkPassword(id: unknown, password: unknown): User | null {
  if (typeof id !== 'string' || typeof password !== 'string') return null
  const expected = passwords.get(id)
  if (expected === undefined) return null
  const given = Buffer.from(password)
  const wanted = Buffer.from(expected)
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? new User(id) : null
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function createManager() {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  return new LoginManager<User>({
    secret,
    userLoader: (id) => (passwords.has(id) ? new User(id) : null),
    loginView: '/login',
  })
}

export function createApp(manager = createManager()) {
  const login = expressLogin(manager)
  const app = express()
  app.use(express.urlencoded({ extended: false, limit: '10kb' }))
  // Flask's init_app: every request gets req.auth (nothing is loaded until a handler asks).
  app.use(login.middleware)

  app.get('/login', (req, res) => {
    const auth = login.auth(req)
    const next = auth.request.query('next')
    const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
    const flashes = auth.consumeFlashes().map((f) => `<p>${escapeHtml(f.message)}</p>`)
    res.type('html').send(`${flashes.join('')}
<form action="${escapeHtml(action)}" method="POST">
  <input name="email" placeholder="user name" autocomplete="username">
  <input name="password" type="password" placeholder="password" autocomplete="current-password">
  <label><input name="remember" type="checkbox"> Remember me</label>
  <button>Log in</button>
</form>`)
  })

  app.post('/login', async (req, res, next) => {
    try {
      const auth = login.auth(req)
      const user = checkPassword(req.body?.email, req.body?.password)
      if (user === null) {
        res.status(401).type('text').send('Bad login')
        return
      }
      await auth.loginUser(user, { remember: req.body?.remember === 'on' })
      // Only a same-origin `next` is followed; anything else falls back to /protected.
      res.redirect(303, auth.nextUrl('/protected'))
    } catch (error) {
      next(error)
    }
  })

  app.get(
    '/protected',
    login.loginRequired((req, res) => {
      // Inside the guard, req.auth.user is a User, not User | null.
      res.type('html').send(`Logged in as: ${escapeHtml(req.auth.user.id)}
<form action="/logout" method="POST"><button>Log out</button></form>`)
    }),
  )

  app.post('/logout', async (req, res, next) => {
    try {
      await login.auth(req).logoutUser()
      res.type('text').send('Logged out')
    } catch (error) {
      next(error)
    }
  })

  return app
}

// Started with `npx tsx app.ts` (not imported by a test): listen on PORT, 3000 by default.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  createApp().listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/login`))
}
