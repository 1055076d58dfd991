import Fastify from 'fastify'
import { LoginManager, type SessionStore } from 'login-manager'
import { fastifyLogin } from 'login-manager/fastify'
import {
  checkPassword,
  escapeHtml,
  exampleSecret,
  loadUser,
  loginPage,
  type User,
} from './users.ts'

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

  app.get('/', async (_req, reply) =>
    reply
      .type('text/html')
      .send('<a href="/protected">Protected page</a> · <a href="/login">Log in</a>'),
  )

  app.get('/login', async (req, reply) => {
    const auth = login.auth(req)
    return reply
      .type('text/html')
      .send(loginPage(auth.request.query('next'), auth.consumeFlashes()))
  })

  app.post('/login', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, string>
    const user = checkPassword(form.email, form.password)
    if (user === null) return reply.code(401).type('text/plain').send('Bad login')
    const auth = login.auth(req)
    await auth.loginUser(user, { remember: form.remember === 'on' })
    return reply.redirect(auth.nextUrl('/protected'), 303)
  })

  app.get('/protected', { preHandler: login.loginRequired }, async (req, reply) =>
    reply.type('text/html').send(`Logged in as: ${escapeHtml(login.guarded(req).user.id)}`),
  )

  app.all('/logout', async (req, reply) => {
    await login.auth(req).logoutUser()
    return reply.type('text/plain').send('Logged out')
  })

  return app
}
