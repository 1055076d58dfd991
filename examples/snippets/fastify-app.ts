// app.ts: a complete Fastify app: login form, remember-me, guards, JSON 401s, logout.
// Run it: SESSION_SECRET=$(npx login-manager secret) npx tsx app.ts
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyRequest } from 'fastify'
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { fastifyLogin } from 'login-manager/fastify'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly password: string, // a real app keeps a hash (scrypt, argon2)
  ) {
    super()
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export async function createApp(
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
  const login = fastifyLogin(manager)

  // request.ip, request.protocol and request.host follow X-Forwarded-* only from a proxy on
  // this machine: see "Client address" in docs/fastify.md.
  const app = Fastify({ trustProxy: 'loopback' })
  // Login forms post urlencoded bodies (@fastify/formbody does the same).
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 10_240 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  await app.register(login.plugin) // applies to the whole app, before your routes

  app.get('/login', async (req, reply) => {
    const auth = login.auth(req) // RequestAuth<User>: auth.user is User | null
    const next = auth.request.query('next')
    const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
    const flashes = auth.consumeFlashes().map((f) => `<p>${escapeHtml(f.message)}</p>`)
    return reply.type('text/html').send(`${flashes.join('')}
<form action="${escapeHtml(action)}" method="POST">
  <input name="email" autocomplete="username"> <input name="password" type="password">
  <label><input name="remember" type="checkbox"> Remember me</label> <button>Log in</button>
</form>`)
  })

  app.post('/login', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, string | undefined>
    const user = users.get(String(form.email))
    if (user === undefined || user.password !== form.password) {
      return reply.code(401).type('text/plain').send('Bad login')
    }
    const auth = login.auth(req)
    await auth.loginUser(user, { remember: form.remember === 'on' })
    return reply.redirect(auth.nextUrl('/protected'), 303) // only a same-site next is followed
  })

  // A preHandler guard; behind it, login.guarded(req).user is a User, not User | null.
  app.get('/protected', { preHandler: login.loginRequired() }, async (req, reply) =>
    reply.type('text/html').send(`Logged in as: ${escapeHtml(login.guarded(req).user.id)}`),
  )

  // One guard for a group of routes: a hook in an encapsulated plugin. The form and its action
  // share a URL: a stale login goes through /login and comes back with a GET, to the form.
  await app.register(
    async (account) => {
      account.addHook('preHandler', login.freshLoginRequired())
      account.get('/email', async (_req, reply) =>
        reply.type('text/html').send(`<form method="POST" action="/account/email">
  <label>New e-mail <input name="email" type="email"></label> <button>Change e-mail</button>
</form>`),
      )
      account.post('/email', async (req: FastifyRequest) => {
        return `E-mail of ${login.guarded(req).user.id} changed`
      })
    },
    { prefix: '/account' },
  )

  // Calling the checks yourself, and sending the outcome.
  app.get('/api/me', async (req, reply) => {
    const auth = login.auth(req)
    const user = await auth.getUser()
    if (user === null) return login.send(reply, await auth.unauthorized()) // 401 for JSON clients
    return { id: user.id }
  })

  app.post('/logout', async (req, reply) => {
    await login.auth(req).logoutUser()
    return reply.type('text/plain').send('Logged out')
  })

  return app
}

// Started with `npx tsx app.ts`: listen on PORT, 3000 by default. No top-level await, so the
// file runs the same in a CommonJS project.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  createApp()
    .then((app) => app.listen({ port, host: '127.0.0.1' }))
    .then(() => console.log(`http://127.0.0.1:${port}/login`))
    .catch((error: unknown) => {
      console.error(error)
      process.exit(1)
    })
}
