// login-manager on Fastify: the basic example's setup (examples/basic/fastify.ts) around the
// protected route: `app.register(login.plugin)` and `{ preHandler: login.loginRequired() }`.
import Fastify from 'fastify'
import { fastifyLogin } from 'login-manager/fastify'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const login = fastifyLogin(createBenchManager(benchSecret()))

const app = Fastify()
await app.register(login.plugin)

app.get('/protected', { preHandler: login.loginRequired() }, async (req, reply) =>
  reply.type('text/html').send(loggedInAs(login.guarded(req).user.id)),
)

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
