import { LoginManager, type SessionStore } from 'login-manager'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import {
  checkPassword,
  escapeHtml,
  exampleSecret,
  loadUser,
  loginPage,
  type User,
} from './users.ts'

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })
const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })

/**
 * Flask-Login's README example as one `(Request) => Response` function: serve it with Bun.serve,
 * Deno.serve, a Next.js route handler or (as `npm start` does) a Node Fetch server.
 */
export function createHandler(secret = exampleSecret(), store?: SessionStore) {
  const manager = new LoginManager<User>({
    secret,
    userLoader: loadUser,
    loginView: '/login',
    session: { store },
  })
  const login = fetchLogin(manager)

  const protectedPage = login.loginRequired((_req, auth) =>
    html(`Logged in as: ${escapeHtml(auth.user.id)}`),
  )
  const pages = login.handle(async (request, auth) => {
    const path = new URL(request.url).pathname
    if (path === '/' && request.method === 'GET') {
      return html('<a href="/protected">Protected page</a> · <a href="/login">Log in</a>')
    }
    if (path === '/login' && request.method === 'GET') {
      return html(loginPage(auth.request.query('next'), auth.consumeFlashes()))
    }
    if (path === '/login' && request.method === 'POST') {
      const form = new URLSearchParams((await request.text()).slice(0, 10_240))
      const user = checkPassword(form.get('email'), form.get('password'))
      if (user === null) return text('Bad login', 401)
      await auth.loginUser(user, { remember: form.get('remember') === 'on' })
      return new Response(null, { status: 303, headers: { location: auth.nextUrl('/protected') } })
    }
    if (path === '/logout') {
      await auth.logoutUser()
      return text('Logged out')
    }
    return text('Not Found', 404)
  })

  // context: what the server knows besides the Request (`@hono/node-server` passes its
  // `{ incoming, outgoing }`: login-manager then reads headers and the client address from it).
  return (request: Request, context?: FetchRequestContext): Response | Promise<Response> =>
    new URL(request.url).pathname === '/protected'
      ? protectedPage(request, context)
      : pages(request, context)
}
