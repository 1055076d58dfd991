import Fastify, { type FastifyReply } from 'fastify'
import type { SessionStore } from 'login-manager'
import { fastifyLogin } from 'login-manager/fastify'
import { exampleSecret, stylesheet } from '../shared/html.ts'
import { accountRoutes, createManager, type Form, type Reply } from './routes.ts'

function send(reply: FastifyReply, answer: Reply): FastifyReply {
  return 'redirect' in answer
    ? reply.redirect(answer.redirect, 303)
    : reply
        .code(answer.status ?? 200)
        .type('text/html')
        .send(answer.html)
}

/** The account example on Fastify. */
export async function createApp(secret = exampleSecret(), store?: SessionStore) {
  const manager = createManager(secret, store)
  const login = fastifyLogin(manager)

  const app = Fastify()
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 10_240 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  await app.register(login.plugin)
  app.get('/style.css', async (_req, reply) => reply.type('text/css').send(stylesheet))

  for (const route of accountRoutes(manager)) {
    const form = (body: unknown): Form => (body ?? {}) as Form
    if (route.guard === undefined) {
      app.route({
        method: route.method,
        url: route.path,
        handler: async (req, reply) =>
          send(reply, await route.run(login.auth(req), form(req.body))),
      })
    } else {
      app.route({
        method: route.method,
        url: route.path,
        preHandler: route.guard === 'fresh' ? login.freshLoginRequired() : login.loginRequired(),
        handler: async (req, reply) =>
          send(reply, await route.run(login.guarded(req), form(req.body))),
      })
    }
  }
  return app
}
