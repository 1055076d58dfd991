// Bare Fastify 5, an ordinary app (a form parser registered, async handlers): the protected route
// with no authentication (the baseline).
import formbody from '@fastify/formbody'
import Fastify from 'fastify'
import { announce, HOST, loggedInAs, PORT } from './listen.ts'

const app = Fastify()
await app.register(formbody)

app.get('/protected', async (_req, reply) => reply.type('text/html').send(loggedInAs('leafstorm')))

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
