// login-manager on Fastify (the same ordinary app as fastify-bare.ts): `app.register(login.plugin)`,
// the guard as the protected route's preHandler, and the basic example's login route.
import formbody from '@fastify/formbody'
import Fastify from 'fastify'
import { fastifyLogin } from 'login-manager/fastify'
import { checkPassword } from '../../examples/basic/users.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const login = fastifyLogin(createBenchManager(benchSecret()))

const app = Fastify()
await app.register(formbody)
await app.register(login.plugin)

app.post('/login', async (req, reply) => {
  const form = (req.body ?? {}) as Record<string, string | undefined>
  const user = checkPassword(form.email, form.password)
  if (user === null) return reply.code(401).type('text/plain').send('Bad login')
  await login.auth(req).loginUser(user)
  return reply.type('text/plain').send('Logged in')
})

app.get('/protected', { preHandler: login.loginRequired() }, async (req, reply) =>
  reply.type('text/html').send(loggedInAs(login.guarded(req).user.id)),
)

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
