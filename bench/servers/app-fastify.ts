// The realistic app on Fastify (bench/lib/app-spec.ts): ~20 routes, JSON (built in) and form
// (`@fastify/formbody`) body parsers, JSON rendering and a static file streamed from disk. With
// BENCH_LOGIN=1, login-manager as the example adds it: `app.register(login.plugin)` and the guard
// as the protected route's preHandler.
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyRequest } from 'fastify'
import { fastifyLogin } from 'login-manager/fastify'
import { APP_ROUTES, dashboard, routeAnswer, STATIC_DIR, STATIC_PATH } from '../lib/app-spec.ts'
import { createBenchManager } from '../lib/login-manager-app.ts'
import { announce, benchSecret, HOST, PORT } from './listen.ts'

const withLogin = process.env.BENCH_LOGIN === '1'
const login = withLogin ? fastifyLogin(createBenchManager(benchSecret())) : null

const app = Fastify()
await app.register(formbody)
if (login !== null) await app.register(login.plugin)

app.get(STATIC_PATH, async (_req, reply) =>
  reply.type('text/css; charset=utf-8').send(createReadStream(join(STATIC_DIR, 'app.css'))),
)
for (const { method, path } of APP_ROUTES) {
  app.route({
    method,
    url: path,
    handler: async (req: FastifyRequest<{ Params: { id?: string } }>) =>
      routeAnswer(path, req.params.id, req.body),
  })
}
if (login === null) {
  app.get('/protected', async () => dashboard('leafstorm'))
} else {
  app.get('/protected', { preHandler: login.loginRequired() }, async (req) =>
    dashboard(login.guarded(req).user.id),
  )
}

await app.listen({ port: PORT, host: HOST })
announce(app.server, () => app.close())
