// The floor on Fastify (the same ordinary app as fastify-bare.ts): the guard's work inline in an
// async preHandler (bench/lib/floor.ts), then `Vary: Cookie`.
import formbody from '@fastify/formbody'
import Fastify from 'fastify'
import type { User } from '../../examples/basic/users.ts'
import { createFloor } from '../lib/floor.ts'
import { announce, benchSecret, HOST, loggedInAs, PORT } from './listen.ts'

const floor = createFloor(benchSecret())
const users = new WeakMap<object, User>()

const app = Fastify()
await app.register(formbody)

app.get(
  '/protected',
  {
    preHandler: async (req, reply) => {
      const user = floor(req.headers.cookie, req.socket.remoteAddress, req.headers['user-agent'])
      if (user === null) return reply.code(401).type('text/plain').send('Unauthorized')
      users.set(req, user)
    },
  },
  async (req, reply) =>
    reply
      .header('vary', 'Cookie')
      .type('text/html')
      .send(loggedInAs(users.get(req)!.id)),
)

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
