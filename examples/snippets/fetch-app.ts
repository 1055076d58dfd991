// fetch-app.ts: a complete app as one (Request) => Response function, for Bun.serve,
// Deno.serve, a Node Fetch server or a Next.js route handler.
import { LoginManager, type SessionStore, UserMixin } from 'login-manager'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'

export class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly password: string, // a real app keeps a hash (scrypt, argon2)
  ) {
    super()
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })

type Route = (request: Request, context?: FetchRequestContext) => Response | Promise<Response>

export function createHandler(
  users = new Map([['leafstorm', new User('leafstorm', 'secret')]]),
  store?: SessionStore, // server-side sessions: see docs/sessions-cookie-vs-store.md
): Route {
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
  const login = fetchLogin(manager)

  const routes: Record<string, Route> = {
    // login.handle(handler): the auth object in, its cookies applied to the Response out.
    'GET /login': login.handle(async (_request, auth) => {
      const next = auth.request.query('next')
      const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
      const flashes = auth.consumeFlashes().map((f) => `<p>${escapeHtml(f.message)}</p>`)
      return html(`${flashes.join('')}
<form action="${escapeHtml(action)}" method="POST">
  <input name="email" autocomplete="username"> <input name="password" type="password">
  <label><input name="remember" type="checkbox"> Remember me</label> <button>Log in</button>
</form>`)
    }),

    'POST /login': login.handle(async (request, auth) => {
      const form = new URLSearchParams((await request.text()).slice(0, 10_240))
      const user = users.get(form.get('email') ?? '')
      if (user === undefined || user.password !== form.get('password')) {
        return new Response('Bad login', { status: 401 })
      }
      await auth.loginUser(user, { remember: form.get('remember') === 'on' })
      // Only a same-site next is followed.
      return new Response(null, { status: 303, headers: { location: auth.nextUrl('/protected') } })
    }),

    // The guard runs first; in the handler auth.user is a User, not User | null.
    'GET /protected': login.loginRequired(async (_request, auth) =>
      html(`Logged in as: ${escapeHtml(auth.user.id)}`),
    ),

    // The form and its action share a URL: a stale login goes through /login and comes back
    // with a GET, to the form.
    'GET /account/email': login.freshLoginRequired(() =>
      html(`<form method="POST" action="/account/email">
  <label>New e-mail <input name="email" type="email"></label> <button>Change e-mail</button>
</form>`),
    ),
    'POST /account/email': login.freshLoginRequired(
      async (_request, auth) => new Response(`E-mail of ${auth.user.id} changed`),
    ),

    // The long form of login.handle: auth() first, apply() to whatever Response you build.
    'GET /api/me': async (request, context) => {
      const auth = await login.auth(request, context)
      const user = await auth.getUser()
      if (user === null) return login.apply(auth, login.render(await auth.unauthorized()))
      return login.apply(auth, Response.json({ id: user.id }))
    },

    'POST /logout': login.handle(async (_request, auth) => {
      await auth.logoutUser()
      return new Response('Logged out')
    }),
  }

  // Not async: a Response goes out without a promise when nothing needed one.
  return (request, context) => {
    const route = routes[`${request.method} ${new URL(request.url).pathname}`]
    return route === undefined
      ? new Response('Not Found', { status: 404 })
      : route(request, context)
  }
}
