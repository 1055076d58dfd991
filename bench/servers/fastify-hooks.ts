// Ablation (BENCH_PAIR): bare Fastify (fastify-bare.ts) with what login-manager's plugin and guard
// register, doing nothing: a global `onRequest` and `onSend` hook and a `preHandler` on the route,
// all callback style. Against fastify-bare.ts it gives what Fastify's hook machinery costs alone.
import formbody from '@fastify/formbody'
import Fastify from 'fastify'
import { announce, HOST, loggedInAs, PORT } from './listen.ts'

const app = Fastify()
await app.register(formbody)
app.addHook('onRequest', (_request, _reply, done) => done())
app.addHook('onSend', (_request, _reply, payload, done) => done(null, payload))

app.get('/protected', { preHandler: (_request, _reply, done) => done() }, async (_req, reply) =>
  reply.type('text/html').send(loggedInAs('leafstorm')),
)

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
