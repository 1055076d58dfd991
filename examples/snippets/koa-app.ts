// app.ts: a complete Koa app: login form, remember-me, a guard, JSON 401s, logout.
// Run it: SESSION_SECRET=$(npx login-manager secret) npx tsx app.ts
import { pathToFileURL } from 'node:url'
import Koa from 'koa'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { type AuthState, koaLogin } from 'login-manager/koa'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly password: string, // a real app keeps a hash (scrypt, argon2)
  ) {
    super()
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Reads an urlencoded body of at most 10 KB (koa-body or @koa/bodyparser do this for you). */
async function readForm(ctx: Pick<Koa.Context, 'req' | 'throw'>) {
  let body = ''
  for await (const chunk of ctx.req) {
    body += chunk
    if (body.length > 10_240) ctx.throw(413)
  }
  return new URLSearchParams(body)
}

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
    session: { store },
  })
  // Throws ERR_NO_USER_LOADER here, at start-up, when the manager has no loader.
  const login = koaLogin(manager)

  const app = new Koa<AuthState<User>>() // ctx.state.auth is typed from here on
  // ctx.ip and ctx.protocol follow X-Forwarded-* only with app.proxy: set it when the app can
  // only be reached through your proxy. See "Client address" in docs/koa.md.
  app.proxy = process.env.BEHIND_PROXY === '1'
  app.maxIpsCount = 1 // the entry the one proxy in front added
  app.use(login.middleware) // before every middleware that uses login-manager

  // Public routes (a router such as @koa/router works the same way).
  app.use(async (ctx, next) => {
    const auth = ctx.state.auth // RequestAuth<User>: auth.user is User | null
    if (ctx.method === 'GET' && ctx.path === '/login') {
      const next = auth.request.query('next')
      const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
      const flashes = auth.consumeFlashes().map((f) => `<p>${escapeHtml(f.message)}</p>`)
      ctx.type = 'html'
      ctx.body = `${flashes.join('')}
<form action="${escapeHtml(action)}" method="POST">
  <input name="email" autocomplete="username"> <input name="password" type="password">
  <label><input name="remember" type="checkbox"> Remember me</label> <button>Log in</button>
</form>`
    } else if (ctx.method === 'POST' && ctx.path === '/login') {
      const form = await readForm(ctx)
      const user = users.get(form.get('email') ?? '')
      if (user === undefined || user.password !== form.get('password')) {
        ctx.status = 401
        ctx.body = 'Bad login'
        return
      }
      await auth.loginUser(user, { remember: form.get('remember') === 'on' })
      ctx.status = 303
      ctx.redirect(auth.nextUrl('/protected')) // only a same-site next is followed
    } else if (ctx.method === 'GET' && ctx.path === '/api/me') {
      // Calling the checks yourself, and sending the outcome.
      const user = await auth.getUser()
      if (user === null)
        login.send(ctx, await auth.unauthorized()) // a 401 for JSON clients
      else ctx.body = { id: user.id }
    } else if (ctx.method === 'POST' && ctx.path === '/logout') {
      await auth.logoutUser()
      ctx.body = 'Logged out'
    } else {
      await next()
    }
  })

  // Everything below needs a login: app.use() returns the app typed with the guarded state.
  const members = app.use(login.loginRequired())
  members.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/protected') {
      ctx.type = 'html'
      ctx.body = `Logged in as: ${escapeHtml(ctx.state.auth.user.id)}` // a User, never null
    }
  })

  return app
}

// Started with `npx tsx app.ts`: listen on PORT, 3000 by default.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  createApp().listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/login`))
}
