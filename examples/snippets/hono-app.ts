// app.ts: a complete Hono app: login form, remember-me, guards, JSON 401s, logout.
// Run it on Node: SESSION_SECRET=$(npx login-manager secret) npx tsx app.ts
import { pathToFileURL } from 'node:url'
import { type HttpBindings, serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { type AuthEnv, type GuardedEnv, honoLogin } from 'login-manager/hono'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly password: string, // a real app keeps a hash (scrypt, argon2)
  ) {
    super()
  }
}

// c.var.auth is typed by the Env type parameter; Bindings are @hono/node-server's.
type Env = AuthEnv<User> & { Bindings: HttpBindings }

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/** The socket's peer; X-Real-IP only when that peer is a proxy on this machine. */
function clientAddress(c: Context<Env>): string | undefined {
  const peer = c.env?.incoming?.socket.remoteAddress // undefined under app.request() in tests
  return peer !== undefined && LOOPBACK.has(peer) ? (c.req.header('x-real-ip') ?? peer) : peer
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function createApp(
  users = new Map([['leafstorm', new User('leafstorm', 'secret')]]),
  store?: SessionStore, // server-side sessions: see docs/sessions-cookie-vs-store.md
) {
  const secret = process.env.SESSION_SECRET
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    userLoader: (id) => users.get(id) ?? null,
    loginView: '/login',
    refreshView: '/login', // a fresh login is a login with the password
    session: { store },
  })
  // Throws ERR_NO_USER_LOADER here, at start-up, when the manager has no loader.
  const login = honoLogin(manager, { clientAddress })

  const app = new Hono<Env>()
  // login.middleware only on the paths whose handlers use c.var.auth without a guard: the
  // guarded routes below need none, and stay single handlers.
  app.use('/login', login.middleware)
  app.use('/api/*', login.middleware)
  app.use('/logout', login.middleware)

  app.get('/login', (c) => {
    const auth = c.var.auth // RequestAuth<User>: auth.user is User | null
    const next = auth.request.query('next')
    const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
    const flashes = auth.consumeFlashes().map((f) => `<p>${escapeHtml(f.message)}</p>`)
    return c.html(`${flashes.join('')}
<form action="${escapeHtml(action)}" method="POST">
  <input name="email" autocomplete="username"> <input name="password" type="password">
  <label><input name="remember" type="checkbox"> Remember me</label> <button>Log in</button>
</form>`)
  })

  app.post('/login', async (c) => {
    const form = await c.req.parseBody()
    const user = users.get(String(form.email))
    if (user === undefined || user.password !== form.password) return c.text('Bad login', 401)
    await c.var.auth.loginUser(user, { remember: form.remember === 'on' })
    return c.redirect(c.var.auth.nextUrl('/protected'), 303) // only a same-site next is followed
  })

  // The guard wraps the handler and runs first; in it c.var.auth.user is a User, not User | null.
  app.get(
    '/protected',
    login.loginRequired((c) => c.html(`Logged in as: ${escapeHtml(c.var.auth.user.id)}`)),
  )

  // Named handlers take the guarded Env. The form and its action share a URL: a stale login
  // goes through /login and comes back with a GET, to the form.
  function emailForm(c: Context<GuardedEnv<User>>) {
    return c.html(`<form method="POST" action="/account/email">
  <label>New e-mail <input name="email" type="email"></label> <button>Change e-mail</button>
</form>`)
  }
  function changeEmail(c: Context<GuardedEnv<User>>) {
    return c.text(`E-mail of ${c.var.auth.user.id} changed`)
  }
  app.get('/account/email', login.freshLoginRequired(emailForm))
  app.post('/account/email', login.freshLoginRequired(changeEmail))

  // Calling the checks yourself, and rendering the outcome as a Response.
  app.get('/api/me', async (c) => {
    const user = await c.var.auth.getUser()
    if (user === null) return login.render(await c.var.auth.unauthorized()) // a 401 for JSON clients
    return c.json({ id: user.id })
  })

  app.post('/logout', async (c) => {
    await c.var.auth.logoutUser()
    return c.text('Logged out')
  })

  return app
}

// Started with `npx tsx app.ts`: listen on PORT, 3000 by default.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  serve({ fetch: createApp().fetch, port, hostname: '127.0.0.1' })
  console.log(`http://127.0.0.1:${port}/login`)
}
