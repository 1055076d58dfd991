import { LoginManager, type SessionStore } from 'login-manager'
import { type FetchRequestContext, fetchLogin } from 'login-manager/fetch'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { BAD_LOGIN, homePage, loggedOutPage, loginPage, protectedPage } from './pages.ts'
import { checkPassword, loadUser, type User } from './users.ts'

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })

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

  const guardedPage = login.loginRequired((_req, auth) => html(protectedPage(auth.user)))
  const pages = login.handle(async (request, auth) => {
    const path = new URL(request.url).pathname
    if (path === '/style.css' && request.method === 'GET') {
      return new Response(stylesheet, { headers: { 'content-type': 'text/css; charset=utf-8' } })
    }
    if (path === '/' && request.method === 'GET') return html(homePage(await auth.getUser()))
    if (path === '/login' && request.method === 'GET') {
      return html(loginPage({ next: auth.request.query('next'), flashes: auth.consumeFlashes() }))
    }
    if (path === '/login' && request.method === 'POST') {
      const form = new URLSearchParams((await request.text()).slice(0, 10_240))
      const user = checkPassword(form.get('email'), form.get('password'))
      if (user === null) {
        const username = form.get('email') ?? ''
        const next = auth.request.query('next')
        return html(loginPage({ next, flashes: [], error: BAD_LOGIN, username }), 401)
      }
      await auth.loginUser(user, { remember: form.get('remember') === 'on' })
      return new Response(null, { status: 303, headers: { location: auth.nextUrl('/protected') } })
    }
    if (path === '/logout') {
      // Flask-Login's README logs out with a GET; the pages' "Log out" buttons POST here.
      await auth.logoutUser()
      return html(loggedOutPage())
    }
    return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } })
  })

  // context: what the server knows besides the Request (`@hono/node-server` passes its
  // `{ incoming, outgoing }`: login-manager then reads the client address from it).
  return (request: Request, context?: FetchRequestContext): Response | Promise<Response> =>
    new URL(request.url).pathname === '/protected'
      ? guardedPage(request, context)
      : pages(request, context)
}
