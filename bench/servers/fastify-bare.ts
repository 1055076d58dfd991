// Bare Fastify 5: the protected route with no authentication (the baseline).
import Fastify from 'fastify'
import { announce, HOST, loggedInAs, PORT } from './listen.ts'

const app = Fastify()

app.get('/protected', async (_req, reply) => reply.type('text/html').send(loggedInAs('leafstorm')))

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
