import Fastify from 'fastify'
import { LoginManager, type SessionStore } from 'login-manager'
import { fastifyLogin } from 'login-manager/fastify'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { BAD_LOGIN, homePage, loggedOutPage, loginPage, protectedPage } from './pages.ts'
import { checkPassword, loadUser, type User } from './users.ts'

/** Flask-Login's README example on Fastify. */
export async function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = new LoginManager<User>({
    secret,
    userLoader: loadUser,
    loginView: '/login',
    session: { store },
  })
  const login = fastifyLogin(manager)

  const app = Fastify()
  // Login forms post application/x-www-form-urlencoded; a tiny parser keeps the example self-contained.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 10_240 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  await app.register(login.plugin)

  app.get('/style.css', async (_req, reply) => reply.type('text/css').send(stylesheet))

  app.get('/', async (req, reply) =>
    reply.type('text/html').send(homePage(await login.auth(req).getUser())),
  )

  app.get('/login', async (req, reply) => {
    const auth = login.auth(req)
    const next = auth.request.query('next')
    return reply.type('text/html').send(loginPage({ next, flashes: auth.consumeFlashes() }))
  })

  app.post('/login', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, string | undefined>
    const auth = login.auth(req)
    const user = checkPassword(form.email, form.password)
    if (user === null) {
      const page = loginPage({
        next: auth.request.query('next'),
        flashes: [],
        error: BAD_LOGIN,
        username: form.email,
      })
      return reply.code(401).type('text/html').send(page)
    }
    await auth.loginUser(user, { remember: form.remember === 'on' })
    return reply.redirect(auth.nextUrl('/protected'), 303)
  })

  app.get('/protected', { preHandler: login.loginRequired() }, async (req, reply) =>
    reply.type('text/html').send(protectedPage(login.guarded(req).user)),
  )

  // Flask-Login's README logs out with a GET; the pages' "Log out" buttons POST here.
  app.all('/logout', async (req, reply) => {
    await login.auth(req).logoutUser()
    return reply.type('text/html').send(loggedOutPage())
  })

  return app
}
